"""Sweeps, in four rooms: plan (which trials), run (on Ray), record (in MLflow), report.

From Python: `from trainer.sweep import run_sweep, load_sweep` (trainer/sweep/api.py). The
parts a sweep shares travel as one `SweepContext` (context.py); the two interfaces new parts
plug into are `plan.search.Search` and `record.store.Store`.
"""

API = ("run_sweep", "load_sweep", "SweepResult")


def __getattr__(name: str):
    # Imported on first use: the command line's modules import this package too, and should
    # not pay for the API's imports.
    if name in API:
        from trainer.sweep import api

        return getattr(api, name)
    raise AttributeError(f"module 'trainer.sweep' has no attribute {name!r}")
