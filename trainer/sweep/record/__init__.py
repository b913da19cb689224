"""Record a sweep: the Store interface and its implementations (MLflow, a process, none)."""
