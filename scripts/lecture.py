"""Draw every picture of the lecture from the real engine and optimizers, as one MLflow run."""

from pathlib import Path

from trainer.config import cli
from trainer.config.compose import compose_config, hydra_context, to_plain
from trainer.config.errors import ConfigError
from trainer.config.preflight import check_tracking
from trainer.config.redact import mask_uri
from trainer.lecture.pictures import README_PICTURES, lecture_files, small_png
from trainer.lecture.runs import checked_configs, run_all
from trainer.lecture.worked_example import worked_example

USAGE = """usage: python scripts/lecture.py [OVERRIDE ...]

Records one MLflow run, `lecture`, whose artifacts are the lecture's pictures and lecture.md.
Overrides (conf/lecture.yaml), e.g.: tracking.uri=sqlite:///lecture.db tracking.experiment=...
  lecture.docs_dir=docs     also write the README's three pictures there
  bowl.condition=100 optimizers.adam.lr=0.05 lecture.valley_steps=2000 trainer.steps=800"""


def main(overrides: list[str]) -> int:
    with hydra_context():
        plain = to_plain(compose_config("lecture", overrides))
    limit, configs = checked_configs(plain)
    docs = check_docs_dir(plain["lecture"]["docs_dir"])
    tracking = plain["tracking"]
    uri = check_tracking(tracking) if tracking["enabled"] else None

    runs = run_all(limit, configs)
    files = lecture_files(worked_example(), runs)
    print(runs.summary())
    if docs is not None:
        docs.mkdir(exist_ok=True)
        for name in README_PICTURES:
            (docs / name).write_bytes(small_png(files[name]))
        print(f"wrote {', '.join(README_PICTURES)} to {docs}")
    if uri is not None:
        from trainer.lecture.record import log_lecture  # MLflow loads only now

        run_id = log_lecture(uri, tracking["experiment"], runs, files)
        shown = mask_uri(uri)
        print(f"logged run {run_id} (lecture) with {len(files)} artifacts to {shown}")
        print(f"view it with: mlflow ui --backend-store-uri {shown}")
    return 0


def check_docs_dir(value) -> Path | None:
    """The directory for the README's pictures: an existing one, or a new one in an existing
    directory."""
    if value is None:
        return None
    path = Path(value).resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"lecture.docs_dir={value} is not allowed: it is a file, not a directory")
    if not path.parent.is_dir():
        raise ConfigError(
            f"lecture.docs_dir={value} is not allowed: its parent {path.parent} does not exist"
        )
    return path


if __name__ == "__main__":
    cli.run(main, USAGE)
