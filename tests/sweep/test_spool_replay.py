"""Replayed into a real store, a spooled plot name that is a path writes no file anywhere."""

import tempfile
import uuid
from pathlib import Path

import pytest
from mlflow import MlflowClient
from support import children, mlflow_store, parents, sqlite_uri

from trainer.config.compose import hydra_context
from trainer.sweep.plan.grid import expand
from trainer.training.loop import train

pytestmark = pytest.mark.usefixtures("one_driver")  # one driver at a time in this process

GRID = ["task=quadratic", "optimizer=sgd", "optimizer.lr=0.01,0.02,0.03", "trainer.steps=3"]


@pytest.mark.usefixtures("sqlite_store")
def test_a_spooled_record_naming_a_path_is_refused_and_the_others_are_logged(tmp_path, capsys):
    with hydra_context() as loader:
        grid = expand({}, GRID, loader)
    uri = sqlite_uri(tmp_path)
    absolute = tmp_path / "outside" / "evil.png"
    absolute.parent.mkdir()
    unique = f"{uuid.uuid4().hex}.png"
    climbing, landing = f"../{unique}", Path(tempfile.gettempdir()) / unique
    store = mlflow_store(uri, grid)
    plot_names = ["loss_curve.png", str(absolute), climbing]
    for trial, plot_name in zip(grid.trials, plot_names, strict=True):
        result = train(trial.config)
        result.trial_id = trial.trial_id
        result.plots = {plot_name: b"\x89PNG"}
        store.spool.append(result, f"lr {trial.config['optimizer']['lr']}")

    still_spooled = store.drain()

    assert not absolute.exists() and not landing.exists()
    assert still_spooled == 0
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if line.startswith("warning: ")]
    assert [w.split(": ")[1] for w in warnings] == [f"{store.spool.path}:{n}" for n in (2, 3)]
    client = MlflowClient(uri)
    [parent] = parents(client)
    [child] = children(client, parent.info.run_id)
    assert child.data.tags["trial_id"] == grid.trials[0].trial_id
    assert "loss_curve.png" in {f.path for f in client.list_artifacts(child.info.run_id)}
