"""An MLP on scikit-learn's bundled 8x8 digits (no download), softmax cross-entropy."""

import inspect
import math
from collections.abc import Sequence

import numpy as np

import autodiff
from autodiff import Tensor
from autodiff.nn import MLP
from optimizers.hyperparameters import BETWEEN_ZERO_AND_ONE, POSITIVE
from trainer.tasks.base import Task, per_member
from trainer.tasks.shared_data import SharedData

ACTIVATIONS = ("tanh", "relu", "sigmoid")
# load_digits(): 1797 images of 8x8 pixels in 10 classes. Knowing the size up front lets a sweep
# check batch sizes against it without importing scikit-learn (seconds) in the driver.
ROWS, PIXELS, CLASSES = 1797, 64, 10


class DigitsMLP(Task):
    name = "digits_mlp"
    trains_in_population = True
    ranges = {"hidden": POSITIVE, "val_fraction": BETWEEN_ZERO_AND_ONE}

    def __init__(
        self,
        hidden: Sequence[int] = (64,),
        activation: str = "tanh",
        val_fraction: float = 0.2,
        data_seed: int = 0,
        seed: int = 0,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"task.activation={activation} is not allowed: it must be one of {ACTIVATIONS}"
            )
        self.check_ranges(hidden=np.array(hidden), val_fraction=val_fraction)
        self.val_fraction, self.data_seed = val_fraction, data_seed
        # train_test_split's sizes: the validation part is ceil(fraction * rows).
        self.n_train = ROWS - math.ceil(val_fraction * ROWS)
        self.model = MLP([PIXELS, *hidden, CLASSES], activation=activation, seed=seed)
        self.params = self.model.parameters()
        self._data = None

    @classmethod
    def dataset(cls, config: dict) -> tuple[SharedData, tuple]:
        """The split a task built from `config` trains on, and its key (see Task.dataset)."""
        defaults = inspect.signature(cls).parameters
        key = [config.get(name, defaults[name].default) for name in ("val_fraction", "data_seed")]
        return split_digits, tuple(key)

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, x_val, y_val), loaded and split on first use (once per process, see
        `split_digits`)."""
        if self._data is None:
            data = split_digits(self.val_fraction, self.data_seed)
            if data[0].shape != (self.n_train, PIXELS):
                raise RuntimeError(
                    f"load_digits() gave {data[0].shape} training rows and pixels; "
                    f"this task expects {self.n_train} of {PIXELS}"
                )
            self._data = data
        return self._data

    def loss(self, batch) -> Tensor:
        x, y, _, _ = self.data()
        return autodiff.cross_entropy(self.model(Tensor(x[batch])), y[batch])

    def evaluate(self) -> dict[str, float]:
        _, _, x_val, y_val = self.data()
        with autodiff.no_grad():
            logits = self.model(Tensor(x_val))
            loss = autodiff.cross_entropy(logits, y_val)
        accuracy = np.mean(np.argmax(logits.data, axis=-1) == y_val, axis=-1)
        return {"val_loss": per_member(loss.data), "val_accuracy": per_member(accuracy)}


@SharedData
def split_digits(val_fraction: float, data_seed: int) -> tuple[np.ndarray, ...]:
    """(x, y, x_val, y_val): a stratified seeded split, inputs standardised with the training
    rows' statistics (constant pixels stay zero). Made once per process: the trials of a Ray
    task share it, read-only."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, stratify=y, random_state=data_seed
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    arrays = ((x_train - mean) / std, y_train, (x_val - mean) / std, y_val)
    for array in arrays:
        array.flags.writeable = False
    return arrays
