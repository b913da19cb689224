"""A task's dataset, made once per process or handed in by another (a sweep's driver)."""

import numpy as np

from trainer.tasks.digits_mlp import DigitsMLP, split_digits
from trainer.tasks.quadratic import Quadratic
from trainer.tasks.shared_data import SharedData


def test_a_dataset_is_made_once_per_key_and_one_handed_in_is_not_made_again():
    made = []

    def load(n):
        made.append(n)
        return np.arange(n)

    data = SharedData(load)
    assert data(3) is data(3) and made == [3]
    data.hand_in((4,), "from the driver")
    assert data(4) == "from the driver" and made == [3]
    # A process that made its own keeps it.
    data.hand_in((3,), "late")
    assert list(data(3)) == [0, 1, 2] and made == [3]


def test_the_digits_task_trains_on_the_split_its_dataset_key_names():
    dataset, key = DigitsMLP.dataset({"val_fraction": 0.25, "data_seed": 3})
    assert dataset is split_digits and key == (0.25, 3)
    task = DigitsMLP(val_fraction=0.25, data_seed=3)
    assert task.data() is split_digits.made[key]
    # A config without them means the constructor's defaults.
    plain = DigitsMLP()
    assert DigitsMLP.dataset({})[1] == (plain.val_fraction, plain.data_seed)


def test_a_task_without_data_to_share_says_so():
    assert Quadratic.dataset({}) is None
