"""Training problems: the quadratic bowl, Rosenbrock, linear and logistic regression, digits MLP."""
