"""Sweeps: grid expansion with Hydra's grammar, Ray execution, MLflow parent and child runs.

From Python: `from trainer.sweep import run_sweep, load_sweep` (see trainer/sweep/api.py).
"""

API = ("run_sweep", "load_sweep", "SweepResult")


def __getattr__(name: str):
    # Imported on first use: the command line's modules import this package too, and should
    # not pay for the API's imports.
    if name in API:
        from trainer.sweep import api

        return getattr(api, name)
    raise AttributeError(f"module 'trainer.sweep' has no attribute {name!r}")
