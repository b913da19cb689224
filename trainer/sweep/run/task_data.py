"""Task datasets the driver loads while Ray starts, handed to every worker by Ray's object store."""

import threading

import ray
from hydra.utils import get_class

from trainer.sweep.background import lower_this_thread
from trainer.sweep.plan.grid import Trial

# The distinct datasets among the grid's first trials are loaded, as warm-up scans its tasks.
SCAN = 256


class DriverLoadedData:
    """A thread, started before Ray is, loads the datasets (Task.dataset) of the first trials'
    tasks, while the driver waits for Ray's processes; `shared` puts them in Ray's object store
    once it is up. A dataset that fails to load here is loaded by each worker, which reports
    the error in its trials as ever."""

    def __init__(self, trials: list[Trial]):
        self.found: dict = {}  # (loader, key) -> (task config, SharedData, key)
        for trial in trials[:SCAN]:
            task = trial.config["task"]
            try:
                dataset = get_class(task["_target_"]).dataset(task)
            except Exception:  # a class the driver cannot import: the workers try it themselves
                continue
            if dataset is not None:
                self.found.setdefault((dataset[0].__qualname__, *dataset[1]), (task, *dataset))
        self.loaded: dict = {}
        self.thread = threading.Thread(target=self._load, name="task-data", daemon=True)
        self.thread.start()

    def _load(self) -> None:
        lower_this_thread()  # loaded while Ray starts: on the CPU it leaves idle
        for name, (_, dataset, key) in self.found.items():
            try:
                self.loaded[name] = dataset(*key)
            except Exception:
                continue

    def shared(self) -> list[tuple[dict, ray.ObjectRef]]:
        """(task config, reference) per dataset loaded, for `hand_in`; waits for the thread."""
        self.thread.join()
        return [(self.found[name][0], ray.put(value)) for name, value in self.loaded.items()]


def hand_in(shared: list[tuple[dict, ray.ObjectRef]]) -> None:
    """In a worker: each dataset the driver loaded, taken from the object store unless this
    worker has it already."""
    for task, reference in shared:
        dataset, key = get_class(task["_target_"]).dataset(task)
        if key not in dataset.made:
            dataset.hand_in(key, ray.get(reference))
