"""A training curve's tracked points (one step in `log_every`) and its exact copy as a file."""

import functools
import io

import numpy as np

# The default (`trainer.log_every=0`) keeps a tracked curve to about this many points.
POINTS_PER_CURVE = 1000
# The steps just before a divergence are always tracked: the blow-up is the interesting part.
BEFORE_DIVERGENCE = 10
NPZ_KEY = "train_loss"


def log_interval(steps: int, log_every: int) -> int:
    """`log_every`, or for 0 (auto) one step in steps // POINTS_PER_CURVE, at least every step;
    Lightning's `log_every_n_steps` convention."""
    return log_every or max(1, steps // POINTS_PER_CURVE)


@functools.lru_cache(maxsize=4096)
def logged_steps(steps_run: int, every: int, divergence_step: int | None = None) -> np.ndarray:
    """The steps a tracked curve keeps, in order: every `every`-th from the first, the last
    step, and the BEFORE_DIVERGENCE steps up to a divergence. Read-only: the trials of a sweep
    share it (most of them stop alike)."""
    steps = _logged_steps(steps_run, every, divergence_step)
    steps.flags.writeable = False
    return steps


def _logged_steps(steps_run: int, every: int, divergence_step: int | None) -> np.ndarray:
    if steps_run == 0:
        return np.empty(0, dtype=np.int64)
    kept = [np.arange(0, steps_run, every), [steps_run - 1]]
    if divergence_step is not None:
        kept.append(np.arange(max(0, divergence_step - BEFORE_DIVERGENCE), divergence_step + 1))
    steps = np.unique(np.concatenate(kept).astype(np.int64))
    return steps[steps < steps_run]


def curve_steps(config: dict, steps_run: int, divergence_step: int | None) -> np.ndarray:
    """`logged_steps` for a trial config's `trainer.steps` and `trainer.log_every`."""
    trainer = config["trainer"]
    every = log_interval(trainer["steps"], trainer.get("log_every", 0))
    return logged_steps(steps_run, every, divergence_step)


def to_npz(train_loss: np.ndarray) -> bytes:
    """Every step's loss, float64, non-finite values included: restores the curve exactly.
    Not compressed: a loss curve's float64 bits hardly compress, and zlib would cost more time
    than the store takes to write the file."""
    buffer = io.BytesIO()
    np.savez(buffer, **{NPZ_KEY: np.asarray(train_loss, dtype=np.float64)})
    return buffer.getvalue()


def from_npz(data: bytes) -> np.ndarray:
    with np.load(io.BytesIO(data)) as archive:
        return archive[NPZ_KEY]
