"""A run's record in MLflow: the run written from a Result, its name and params, its provenance."""
