"""One run of scripts/lecture.py against a temporary sqlite store, read back with MlflowClient."""

import io
import json

import pytest
from mlflow import MlflowClient
from PIL import Image
from support import run_script

from trainer.lecture.pictures import README_PICTURES
from trainer.lecture.runs import LEARNING_RATES
from trainer.tasks.quadratic import Quadratic
from trainer.training.loop import train

pytestmark = pytest.mark.slow  # scripts/lecture.py launched, every picture drawn

ARTIFACTS = {
    "worked_example.png",
    "worked_example.dot",
    "local_global_gradient.png",
    "sgd_zigzag.png",
    "learning_rates.png",
    "learning_rates.json",
    "momentum.png",
    "adaptive_paths.png",
    "adaptive_rates.png",
    "lecture.md",
}


@pytest.fixture(scope="module")
def lecture(tmp_path_factory, copy_store):
    """(client, the run, its artifacts by name, the docs directory) after one run."""
    folder = tmp_path_factory.mktemp("lecture")
    uri = copy_store(folder)
    docs = folder / "docs"
    run_script(
        "lecture.py", f"tracking.uri={uri}", f"lecture.docs_dir={docs}", cwd=folder, check=True
    )
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("gradsweep")
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.run_name for run in runs] == ["lecture"]
    run = runs[0]
    client.download_artifacts(run.info.run_id, "", str(folder / "downloaded"))
    names = {entry.path for entry in client.list_artifacts(run.info.run_id)}
    files = {name: (folder / "downloaded" / name).read_bytes() for name in names}
    return client, run, files, docs


def test_every_picture_and_note_is_an_artifact_of_the_one_run(lecture):
    _, run, files, _ = lecture
    assert set(files) == ARTIFACTS
    assert run.info.status == "FINISHED"
    for name, data in files.items():
        if name.endswith(".png"):
            assert data.startswith(b"\x89PNG"), name


def test_the_readme_pictures_are_written_to_the_docs_dir(lecture):
    _, _, files, docs = lecture
    for name in README_PICTURES:
        small = Image.open(docs / name)
        assert small.size == Image.open(io.BytesIO(files[name])).size
        assert len((docs / name).read_bytes()) < len(files[name])


def test_the_dot_artifact_holds_the_lectures_numbers(lecture):
    dot = lecture[2]["worked_example.dot"].decode()
    for row in ("x1\\nop: leaf\\nvalue: -2\\ngrad: -4", "x3\\nop: leaf\\nvalue: -4\\ngrad: 3"):
        assert row in dot
    assert "f\\nop: *\\nvalue: -12\\ngrad: 1" in dot


def test_learning_rates_come_from_the_stability_limit_and_one_curve_diverges(lecture):
    _, run, files, _ = lecture
    panel = json.loads(files["learning_rates.json"])
    limit = Quadratic().max_stable_lr()
    assert panel["stability_limit"] == limit
    curves = panel["curves"]
    assert [c["label"] for c in curves] == list(LEARNING_RATES)
    assert [c["lr"] for c in curves] == [f * limit for f in LEARNING_RATES.values()]
    diverged = [c for c in curves if c["outcome"] == "diverged"]
    assert len(diverged) == 1
    curve = diverged[0]
    # The step in the panel is the trainer's own: an independent run of train agrees.
    independent = train(curve["config"])
    assert independent.divergence.step == curve["divergence_step"]
    key = f"lr/{curve['label']}"
    assert run.data.tags[f"divergence.{key}.step"] == str(curve["divergence_step"])
    assert run.data.metrics[f"divergence_step.{key}"] == curve["divergence_step"]


def test_lecture_md_reports_the_measured_numbers(lecture):
    _, run, files, _ = lecture
    notes = files["lecture.md"].decode()
    steps = int(run.data.metrics["steps_to_1e-6.bowl/adam"])
    assert f"adam at step {steps}" in notes
    panel = json.loads(files["learning_rates.json"])
    step = next(c["divergence_step"] for c in panel["curves"] if c["divergence_step"] is not None)
    assert f"diverged at step {step}" in notes
