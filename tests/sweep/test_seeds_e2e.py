"""Seeds from the command line: configs.csv, the intervals and the figures on the parent run."""

import csv
import io

import numpy as np
import pytest
from support import children, sweep_into

from trainer import contract
from trainer.sweep import load_sweep

pytestmark = pytest.mark.slow

ARGS = [
    "task=logistic_regression",
    "optimizer=momentum",
    "optimizer.lr=0.01,0.1,1",
    "optimizer.momentum=0,0.9",
    "sweep.seeds=5",
    "trainer.steps=300",
]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    done, client, parent = sweep_into(folder, *ARGS)
    return folder, done, client, parent


def test_configs_csv_holds_each_configuration_aggregated_as_numpy_would(swept):
    folder, _, client, parent = swept
    path = client.download_artifacts(parent.info.run_id, contract.CONFIGS_FILE, str(folder))
    configs = list(csv.DictReader(io.StringIO(open(path).read())))
    assert len(configs) == 6 and {c["n"] for c in configs} == {"5"}
    runs = children(client, parent.info.run_id)
    metric = contract.FINAL_VAL_LOSS
    for config in configs:
        mine = [
            r.data.metrics[metric]
            for r in runs
            if r.data.params["optimizer.lr"] == config["optimizer.lr"]
            and r.data.params["optimizer.momentum"] == config["optimizer.momentum"]
        ]
        assert len(mine) == 5
        assert float(config["mean"]) == pytest.approx(np.mean(mine), rel=1e-12)
        assert float(config["std"]) == pytest.approx(np.std(mine, ddof=1), rel=1e-12)
        low, high = float(config["ci_low"]), float(config["ci_high"])
        assert low <= float(config["mean"]) <= high
        assert high > low or np.ptp(mine) == 0


def test_the_parent_carries_the_best_configuration_and_every_picture(swept):
    _, done, client, parent = swept
    run = client.get_run(parent.info.run_id)
    files = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert {contract.COMPARE_FILE, contract.IMPORTANCE_FILE, contract.HEATMAP_FILE} <= files
    importance = {k: v for k, v in run.data.metrics.items() if k.startswith("importance/")}
    assert set(importance) == {"importance/optimizer.lr", "importance/optimizer.momentum"}
    assert sum(importance.values()) == pytest.approx(1.0, abs=1e-9)
    tags = run.data.tags
    assert tags["best.configuration"].startswith("momentum lr=")
    assert float(tags["best.ci_low"]) <= float(tags["best.mean"]) <= float(tags["best.ci_high"])
    assert f"best configuration by mean {contract.FINAL_VAL_LOSS}: " in done.stdout
    assert "95% CI [" in done.stdout


def test_load_sweep_reads_the_configurations_back(swept):
    folder, _, _, parent = swept
    loaded = load_sweep(parent.info.run_id, f"sqlite:///{folder}/mlflow.db")
    assert len(loaded.rows) == 30 and len(loaded.configs) == 6
    best = loaded.configs[0]
    assert best["n"] == 5 and best["ci_low"] <= best["mean"] <= best["ci_high"]
