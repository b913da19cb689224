"""The sweep's record in MLflow: its parent run, with a child run per trial or a trial table."""
