"""A task's dataset made once per process, or handed in by a process that made it already."""

import functools
from collections.abc import Callable, Hashable


class SharedData:
    """`load(*key)`, called once per key in a process and kept. `hand_in` gives it a value
    another process loaded with the same function and key: a sweep's driver loads a task's
    data while Ray starts, and its workers take it from Ray's object store instead of loading
    it again (scikit-learn's import alone is a second of each worker's start)."""

    def __init__(self, load: Callable):
        self.load, self.made = load, {}
        functools.update_wrapper(self, load)

    def __call__(self, *key: Hashable):
        if key not in self.made:
            self.made[key] = self.load(*key)
        return self.made[key]

    def hand_in(self, key: tuple, value) -> None:
        """Keep `value` as load(*key)'s, unless this process made its own already."""
        self.made.setdefault(key, value)
