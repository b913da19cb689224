"""How the store contract reaches into each form a sweep's trials are recorded in: a child run
per trial (`ChildRunForm`), or parts of the parent's trial table (`TableForm`,
tracking.children=false): reading back what counts, cutting a write short, relabelling a
trial's code, finding a trial's own file."""

import io
import tempfile
from pathlib import Path

import numpy as np

from trainer import contract
from trainer.sweep.record.mlflow.reader import recorded_trials


def recorded(client, parent_id: str) -> list:
    """The trials that count of the sweep whose parent is `parent_id`, in either form."""
    return recorded_trials(client, client.get_run(parent_id))


class ChildRunForm:
    """How the contract cuts a write short, or relabels a trial's code, where each trial is a
    child run, and where a trial's own file is."""

    def cut_short(self, client, parent_id: str, result, name: str):
        """A trial's write cut short by a killed driver: a child left RUNNING. A check that
        the next invocation cleared it."""
        experiment = client.get_run(parent_id).info.experiment_id
        tags = {contract.PARENT_RUN_ID: parent_id, contract.TRIAL_ID: result.trial_id}
        cut = client.create_run(experiment, run_name=name, tags=tags)
        return lambda: client.get_run(cut.info.run_id).info.lifecycle_stage == "deleted"

    def relabel(self, client, parent_id: str, fingerprint: str) -> None:
        """Every recorded trial as if other code had computed it."""
        for run in recorded(client, parent_id):
            client.set_tag(run.info.run_id, contract.CODE_FINGERPRINT, fingerprint)

    def trial_file(self, client, parent_id: str) -> tuple[str, str]:
        """(run id, path) of a file holding a recorded trial's curve."""
        [run] = recorded(client, parent_id)
        return run.info.run_id, contract.TRAIN_LOSS_FILE


class TableForm:
    """The same for tracking.children=false, where the trials are parts of the parent's table
    (trainer/sweep/record/mlflow/parts.py): a part torn by a kill, a part's code relabelled."""

    @staticmethod
    def parts(client, parent_id: str) -> list[str]:
        return sorted(f.path for f in client.list_artifacts(parent_id, contract.TRIALS_FOLDER))

    @staticmethod
    def upload(client, parent_id: str, name: str, data: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / name).write_bytes(data)
            client.log_artifact(parent_id, str(Path(folder) / name), contract.TRIALS_FOLDER)

    def cut_short(self, client, parent_id: str, result, name: str):
        """A part torn by a kill mid-write, holding the trial; a check that it is still there,
        skipped (parts are never rewritten)."""
        from trainer.sweep.record.mlflow.parts import to_part
        from trainer.sweep.record.mlflow.table_runs import table_trial

        tags = {contract.PARENT_RUN_ID: parent_id, contract.TRIAL_ID: result.trial_id}
        data = to_part([table_trial(result, name, tags, parent_id)])
        torn = "part-00007-dead.npz"
        self.upload(client, parent_id, torn, data[: len(data) // 2])
        return lambda: f"{contract.TRIALS_FOLDER}/{torn}" in self.parts(client, parent_id)

    def relabel(self, client, parent_id: str, fingerprint: str) -> None:
        from trainer.sweep.record.mlflow.parts import TAG, read_columns

        key = TAG + contract.CODE_FINGERPRINT
        for path in self.parts(client, parent_id):
            with tempfile.TemporaryDirectory() as folder:
                columns = read_columns(
                    Path(client.download_artifacts(parent_id, path, folder)).read_bytes()
                )
            columns[key] = np.full(columns[key].shape, fingerprint)
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **columns)
            self.upload(client, parent_id, Path(path).name, buffer.getvalue())

    def trial_file(self, client, parent_id: str) -> tuple[str, str]:
        return parent_id, self.parts(client, parent_id)[0]
