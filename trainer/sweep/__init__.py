"""Sweeps: grid expansion with Hydra's grammar, Ray execution, MLflow parent and child runs."""
