"""A script's own entry point run in this process: `python scripts/<script> ARGS` from its
command line to its exit code, through the same `trainer.config.cli.run(main, USAGE)` the script's
`__main__` calls, without an interpreter's start (a second or more each, with Hydra and MLflow
to import). Refused input is checked this way; `support.run_script` launches the script itself.
"""

import gc
import os
import runpy
import subprocess
import sys
from functools import cache
from pathlib import Path

from support import REPO

from trainer.config import cli


@cache
def entry(script: str) -> tuple:
    """`main` and `USAGE` of scripts/<script>, loaded once (not as __main__: nothing runs)."""
    path = REPO / "scripts" / script
    namespace = runpy.run_path(str(path), run_name=f"{path.stem}_script")
    return namespace["main"], namespace["USAGE"]


def run_main(
    script: str, *args: str, cwd: Path, capfd, env: dict | None = None
) -> subprocess.CompletedProcess:
    """What `support.run_script(script, *args, cwd=cwd, env=env)` returns, run in this process:
    the exit code `cli.run` ends with, and everything written to file descriptors 1 and 2 while
    it ran (`capfd`: print, logging and C code alike). The working directory, sys.argv and the
    environment are put back as they were, whatever the script changed."""
    main, usage = entry(script)
    argv = [str(REPO / "scripts" / script), *args]
    saved_cwd, saved_argv, saved_env = os.getcwd(), sys.argv, dict(os.environ)
    capfd.readouterr()  # what came before is not this run's output
    try:
        os.chdir(cwd)
        sys.argv = argv
        os.environ.update(env or {})
        try:
            cli.run(main, usage)
        except SystemExit as end:
            code = end.code
        else:  # cli.run always exits
            raise AssertionError(f"{script}: cli.run returned instead of exiting")
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
        gc.unfreeze()  # cli.run freezes the collector for the interpreter's exit; this one goes on
    out, err = capfd.readouterr()
    # As the interpreter maps sys.exit's argument: None is 0, a message is 1.
    code = 0 if code is None else code if isinstance(code, int) else 1
    return subprocess.CompletedProcess(argv, code, out, err)
