"""Training runs and sweeps: tasks, the training loop, divergence detection, MLflow and Ray."""
