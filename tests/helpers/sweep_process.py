"""A sweep launched in the background as a user would, watched through its output and store."""

import re
import signal
import subprocess
import time
from pathlib import Path

from support import script_command, script_env


class SweepProcess:
    """`python scripts/sweep.py` in the background, its progress read from its output."""

    def __init__(self, args: list[str], cwd: Path, env: dict | None = None):
        self.out = open(cwd / "sweep.out", "w+")
        self.process = subprocess.Popen(
            script_command("sweep.py", *args),
            cwd=cwd,
            env=script_env(env),
            stdout=self.out,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self) -> str:
        return Path(self.out.name).read_text()

    def trials_done(self) -> int:
        """The progress bar's count of trials done (it prints `done/total`)."""
        counts = re.findall(r"\| *(\d+)/\d+ \[", self.output())
        return int(counts[-1]) if counts else 0

    def wait_for(self, trials: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.trials_done() < trials:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"sweep never reached {trials} trials:\n{self.output()}")
            time.sleep(0.1)

    def wait_for_logged(self, logged, at_least: int, timeout: float = 180) -> None:
        """Until `logged()`, the trials in the sweep's store, reaches `at_least`: the progress
        bar counts a trial when its result comes, a moment before it is logged (the workers
        train the next trials meanwhile), so a test that kills the sweep counts the store."""
        deadline = time.monotonic() + timeout
        while logged() < at_least:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"sweep never logged {at_least} trials:\n{self.output()}")
            time.sleep(0.2)

    def wait_for_text(self, pattern: str, timeout: float = 180) -> re.Match:
        """The first match of `pattern` in the output, once the sweep has printed it."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.output())) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"sweep never printed {pattern!r}:\n{self.output()}")
            time.sleep(0.1)
        return found

    def wait_for_start(self, timeout: float = 180) -> None:
        """Until the sweep says what it will run: its store is open and its lease held."""
        self.wait_for_text(r"already done, \d+ to run", timeout)

    def wait(self, timeout: float = 300) -> int:
        return self.process.wait(timeout=timeout)

    def interrupt_after(self, trials: int, timeout: float = 240) -> None:
        """One Ctrl-C once the progress bar counts `trials`: the sweep must end with code 130."""
        self.wait_for(trials, timeout)
        self.process.send_signal(signal.SIGINT)
        assert self.wait(timeout=120) == 130, self.output()
