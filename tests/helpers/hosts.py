"""A second host on this machine that shares nothing with the first but the code's folder.

Its own network namespace, joined by a veth pair in a private /30, and its own mount namespace
with a fresh /tmp. Processes started there, and Ray nodes anywhere, are stopped by their tree.
"""

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PRIVATE = ipaddress.ip_network("10.200.0.0/16")  # the /30s are cut from here, one unused
# In the namespace: a fresh tmpfs on /tmp, a home and working directory inside it, then the command.
# The code's folders that live under /tmp (CI's virtual environment and clone) are carried
# through: bound aside onto a private /mnt first, then back at their own paths on the new /tmp.
# Arguments: the number of such folders, the folders, the folders again, then the command.
FRESH_TMP = """
set -e; count=$1; shift; i=0
mount -t tmpfs tmpfs /mnt
while [ $i -lt $count ]; do mkdir /mnt/$i; mount --bind "$1" /mnt/$i; shift; i=$((i+1)); done
mount -t tmpfs tmpfs /tmp; i=0
while [ $i -lt $count ]; do mkdir -p "$1"; mount --bind /mnt/$i "$1"; shift; i=$((i+1)); done
mkdir /tmp/home && cd /tmp/home && exec "$@"
"""


def namespaces_unavailable() -> str | None:
    """Why this machine cannot make a second host, or None."""
    if os.geteuid() != 0:
        return "creating network and mount namespaces needs root (CI runs as root)"
    missing = [tool for tool in ("ip", "unshare") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (iproute2, util-linux)"
    return None


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout


def unused_pair() -> tuple[str, str]:
    """Two addresses of a /30 in PRIVATE that no interface of this machine is in."""
    taken = {
        ipaddress.ip_interface(word).network
        for line in _run("ip", "-o", "-4", "addr", "show").splitlines()
        for word in line.split()
        if "/" in word and word[0].isdigit()
    }
    subnets = list(PRIVATE.subnets(new_prefix=30))
    start = os.getpid() % len(subnets)
    for subnet in subnets[start:] + subnets[:start]:
        if not any(subnet.overlaps(network) for network in taken):
            first, second = list(subnet.hosts())
            return str(first), str(second)
    raise RuntimeError(f"no free /30 left in {PRIVATE}")


def code_folders_under_tmp() -> list[str]:
    """The folders the second host shares with this one (the checkout, the virtual environment
    and the interpreter's own), where they are under /tmp and so would be hidden by a fresh one."""
    root = Path(__file__).resolve().parents[2]
    folders = {str(root), os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return sorted(folder for folder in folders if Path(folder).is_relative_to("/tmp"))


class SecondHost:
    """The namespace pair: `address` is this machine's end of the veth, `remote` the other
    host's. `start(command)` runs a command there, with a fresh /tmp; `remove()` deletes it."""

    def __init__(self):
        tag = os.getpid()
        self.netns, self.here, self.there = f"gradsweep-{tag}", f"gs{tag}a", f"gs{tag}b"
        self.address, self.remote = unused_pair()
        self.processes: list[subprocess.Popen] = []

    def create(self) -> "SecondHost":
        _run("ip", "netns", "add", self.netns)
        try:
            _run("ip", "link", "add", self.here, "type", "veth", "peer", "name", self.there)
            _run("ip", "link", "set", self.there, "netns", self.netns)
            _run("ip", "addr", "add", f"{self.address}/30", "dev", self.here)
            _run("ip", "link", "set", self.here, "up")
            inside = ("ip", "netns", "exec", self.netns)
            _run(*inside, "ip", "addr", "add", f"{self.remote}/30", "dev", self.there)
            _run(*inside, "ip", "link", "set", self.there, "up")
            _run(*inside, "ip", "link", "set", "lo", "up")
        except RuntimeError:
            self.remove()
            raise
        return self

    def start(self, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        """`command` on the second host, in /tmp/home of its own /tmp; output to `log`."""
        inside = ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation"]
        kept = code_folders_under_tmp()
        script = ["sh", "-c", FRESH_TMP, "sh", str(len(kept)), *kept, *kept, *command]
        wrapped = [*inside, "private", *script]
        # ip netns exec, unshare and sh each exec the next: the pid is the command's own.
        process = subprocess.Popen(
            wrapped, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def run(self, command: list[str]) -> str:
        """`command` on the second host's network (this machine's files), to completion."""
        return _run("ip", "netns", "exec", self.netns, *command)

    def remove(self) -> None:
        """Every process started there stopped, then the namespace (and with it the veth)."""
        for process in self.processes:
            stop_tree(process)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.here], capture_output=True, timeout=30)


def tree(pid: int) -> list[int]:
    """`pid` and every process under it (Ray's raylet, agents and workers under `ray start`)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def stop_tree(process: subprocess.Popen) -> None:
    """SIGKILL to `process` and everything under it, as a machine losing power would."""
    for pid in tree(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in (log.read_text() if log.exists() else ""):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never printed {text!r}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
