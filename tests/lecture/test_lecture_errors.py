"""A mistake on scripts/lecture.py's command line: exit code 2, one line, nothing written."""

import pytest
from entry import run_main
from support import run_script

# name -> (override, fragments the one line must hold)
BAD = {
    "unknown_key": ("lecture.colour=red", ["lecture.colour"]),
    "valley_steps_zero": ("lecture.valley_steps=0", ["lecture.valley_steps=0", "> 0"]),
    "negative_lr": ("optimizers.adam.lr=-1", ["optimizers.adam.lr=-1", "> 0"]),
    "flat_bowl": ("bowl.condition=0.5", ["bowl.condition=0.5", ">= 1"]),
    "bad_store": ("tracking.uri=ftp://nowhere", ["tracking.uri=ftp://nowhere", "sqlite://"]),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_override_exits_2_with_one_line_and_writes_nothing(tmp_path, capfd, name):
    # Through the script's own entry point, in this process (entry.py); the test below
    # launches lecture.py itself.
    override, fragments = BAD[name]
    docs = f"lecture.docs_dir={tmp_path}/docs"
    done = run_main("lecture.py", override, docs, cwd=tmp_path, capfd=capfd)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_docs_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "docs").write_text("not a directory")
    done = run_script("lecture.py", f"lecture.docs_dir={tmp_path}/docs", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "lecture.docs_dir" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]
