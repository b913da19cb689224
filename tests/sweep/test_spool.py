"""The spool survives its own accidents: torn lines, foreign records, names that are paths."""

import json
import stat

import numpy as np
import pytest

from trainer.sweep.record.spool import Spool, spool_path
from trainer.training.result import Divergence, Result

URI = "sqlite:////data/store/mlflow.db"


def result(trial_id: str, plots=None, loss=(1.0, 0.5)) -> Result:
    return Result(
        config={"optimizer": {"lr": 0.1}, "trial": trial_id},
        outcome="diverged",
        train_loss=np.array(loss),
        divergence=Divergence(step=1, reason="non-finite loss", last_finite_loss=1.0, value=0.5),
        trajectory=np.array([[0.0, 1.0], [0.5, 0.5]]),
        trial_id=trial_id,
        plots={"loss_curve.png": b"\x89PNG a", "trajectory.png": b"\x89PNG b"}
        if plots is None
        else plots,
    )


@pytest.fixture
def spool(tmp_path):
    return Spool(tmp_path / ".gradsweep-spool" / "s1.jsonl", URI, "s1")


def loaded_ids(spool: Spool) -> list[str]:
    return sorted(r.trial_id for r in spool.load())


def tear(spool: Spool) -> None:
    """A record cut short mid-append, as a kill or a full disk leaves it: no newline."""
    with open(spool.path, "ab") as file:
        file.write(b'{"store": "sqlite:////data/store/mlflow.db", "sweep_id": "s1", "config": {"o')


def test_a_result_comes_back_as_it_was_written(spool):
    written = result("a", loss=(1.0, float("inf")))
    spool.append(written)
    [read] = spool.load()
    assert read.config == written.config and read.plots == written.plots
    assert read.divergence == written.divergence
    np.testing.assert_array_equal(read.train_loss, written.train_loss)
    np.testing.assert_array_equal(read.trajectory, written.trajectory)


def test_good_torn_good_loads_both_good_records_and_names_the_torn_line(spool, capsys):
    spool.append(result("a"))
    tear(spool)
    spool.append(result("b"))
    assert loaded_ids(spool) == ["a", "b"]
    [warning] = capsys.readouterr().err.splitlines()
    assert warning.startswith(f"warning: {spool.path}:2: ") and "skipped" in warning


def test_a_record_appended_after_a_torn_last_line_starts_on_a_line_of_its_own(spool, capsys):
    spool.path.parent.mkdir(parents=True)
    tear(spool)
    spool.append(result("a"))
    spool.append(result("b"))
    assert loaded_ids(spool) == ["a", "b"]
    assert len(spool.path.read_bytes().splitlines()) == 3
    assert f"{spool.path}:1: " in capsys.readouterr().err


def test_the_last_record_of_a_trial_wins(spool):
    spool.append(result("a", loss=(3.0,)))
    spool.append(result("a", loss=(2.0,)))
    [read] = spool.load()
    assert read.train_loss.tolist() == [2.0]


@pytest.mark.parametrize(
    "name",
    ["../../x.png", "/tmp/evil.png", "sub/loss_curve.png", "..", "notes.txt", "loss_curve.png/"],
)
def test_a_plot_name_outside_the_allowed_set_skips_its_record_with_a_warning(spool, capsys, name):
    spool.append(result("a"))
    spool.append(result("b", plots={"loss_curve.png": b"png", name: b"evil"}))
    assert loaded_ids(spool) == ["a"]
    [warning] = capsys.readouterr().err.splitlines()
    assert f"{spool.path}:2: plot name {name!r} refused; allowed: loss_curve.png" in warning


@pytest.mark.parametrize(
    "line",
    [
        b"[1, 2, 3]",
        b'{"outcome": "converged"}',
        b'{"outcome": "converged", "trial_id": "x", "plots": {"loss_curve.png": "not base64!"}}',
        b'{"outcome": "converged", "trial_id": "x", "plots": {}}',
        b'{"outcome": "converged", "trial_id": "x", "plots": {}, "train_loss": "a"}',
        b"\xff\xfe not text",
    ],
)
def test_a_line_that_is_not_a_result_is_skipped_and_its_neighbours_load(spool, capsys, line):
    spool.append(result("a"))
    with open(spool.path, "ab") as file:
        file.write(line + b"\n")
    spool.append(result("b"))
    assert loaded_ids(spool) == ["a", "b"]
    assert f"{spool.path}:2: " in capsys.readouterr().err


def test_the_spool_is_readable_by_its_owner_only(spool):
    spool.append(result("a"))
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.path.parent.stat().st_mode) == 0o700


def test_a_spool_left_readable_by_others_is_closed_at_the_next_append(spool):
    spool.path.parent.mkdir(mode=0o755, parents=True)
    spool.path.parent.chmod(0o755)
    spool.path.write_bytes(b"")
    spool.path.chmod(0o644)
    spool.append(result("a"))
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.path.parent.stat().st_mode) == 0o700


def test_records_for_another_store_or_sweep_are_not_replayed(spool, capsys):
    spool.append(result("mine"))
    Spool(spool.path, "http://127.0.0.1:5000", "s1").append(result("other store"))
    Spool(spool.path, URI, "s2").append(result("other sweep"))
    assert loaded_ids(spool) == ["mine"]
    warnings = capsys.readouterr().err.splitlines()
    assert [w.split(": ")[1] for w in warnings] == [f"{spool.path}:2", f"{spool.path}:3"]
    assert "'http://127.0.0.1:5000'" in warnings[0] and "sweep 's2'" in warnings[1]
    assert loaded_ids(Spool(spool.path, "http://127.0.0.1:5000", "s1")) == ["other store"]


def test_clearing_forgets_only_this_store_and_sweeps_records(spool):
    spool.append(result("mine"))
    other = Spool(spool.path, "http://127.0.0.1:5000", "s1")
    other.append(result("theirs"))
    spool.clear()
    assert loaded_ids(spool) == [] and loaded_ids(other) == ["theirs"]
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    other.clear()
    assert not spool.path.exists()
    other.clear()


def test_credentials_in_the_store_uri_are_masked_in_the_file_and_it_still_replays(tmp_path):
    uri = "http://user:secretpw@127.0.0.1:5000?token=t0k3n"
    spool = Spool(tmp_path / "s.jsonl", uri, "s1")
    spool.append(result("a"))
    text = spool.path.read_text()
    assert "secretpw" not in text and "t0k3n" not in text
    assert json.loads(text)["store"] == "http://user:***@127.0.0.1:5000?token=***"
    assert loaded_ids(Spool(tmp_path / "s.jsonl", uri, "s1")) == ["a"]


def test_for_sweep_is_the_spool_beside_the_store(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    spool = Spool.for_sweep(uri, "s1")
    assert spool.path == spool_path(uri, "s1") == tmp_path / ".gradsweep-spool" / "s1.jsonl"
    spool.append(result("a"))
    assert loaded_ids(Spool.for_sweep(uri, "s1")) == ["a"]
    assert loaded_ids(Spool.for_sweep(uri, "s2")) == []


def test_a_spool_made_from_its_path_alone_keeps_working(tmp_path):
    spool = Spool(tmp_path / "deep" / "s.jsonl")
    assert spool.load() == []
    spool.append(result("a"))
    assert loaded_ids(Spool(tmp_path / "deep" / "s.jsonl")) == ["a"]
    spool.clear()
    assert spool.load() == [] and not spool.path.exists()


def test_a_result_computed_by_other_code_is_not_replayed_and_goes_at_the_next_clear(
    tmp_path, capsys
):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    Spool.for_sweep(uri, "s1", code="old").append(result("a"))
    now = Spool.for_sweep(uri, "s1", code="new")
    now.append(result("b"))
    assert loaded_ids(now) == ["b"]
    assert "computed by code that has since changed" in capsys.readouterr().err
    now.clear()
    assert not now.path.exists()
