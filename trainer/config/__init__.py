"""A run's configuration: Hydra composition, the schemas, checks at the edge, the command line."""
