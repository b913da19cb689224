"""One driver per sweep: a lease held in the parent run's tags, kept alive by a heartbeat."""

import os
import socket
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import RunTag

from trainer import contract
from trainer.sweep.record.store import LeaseLost

HEARTBEAT_SECONDS = 5.0
# A lease whose heartbeat is older than this is stale: its driver is gone (killed, or its
# machine lost). Six missed heartbeats, so a store slow for a while does not lose it.
STALE_SECONDS = 30.0
# Between writing the lease and reading it back: longer than another driver takes from reading
# the lease free to writing its own, so of two drivers racing, the later write wins and the
# earlier one sees it.
SETTLE_SECONDS = 0.5


class LeaseHeld(Exception):
    """Another driver holds the sweep: one line naming it and since when."""


def _alive_here(pid: int) -> bool:
    """Whether process `pid` of this machine still runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


class Lease:
    """The lease of the sweep whose parent run is `run_id`, for the driver process `driver_pid`.

    `acquire` takes it (or raises LeaseHeld), then a thread refreshes `lease.heartbeat` every
    HEARTBEAT_SECONDS while the driver lives; `release` gives it up. A lease is taken over when
    its heartbeat is older than STALE_SECONDS, or at once when its holder was a process of this
    machine that no longer runs. Each beat first reads the owner back: once another driver has
    taken the lease over, `check` raises LeaseLost and this driver writes nothing more (after a
    silence of its heartbeat, `check` reads the owner back itself).
    """

    def __init__(self, client: MlflowClient, run_id: str, driver_pid: int):
        self.client, self.run_id, self.driver_pid = client, run_id, driver_pid
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{driver_pid}:{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost: str | None = None  # who took the lease over, once this driver saw it
        self.last_beat = time.time()  # when a heartbeat of this driver last reached the store

    def holder(self, tags: dict) -> str | None:
        """Who holds the lease, as one line, if another driver does and is not known gone."""
        owner = tags.get(contract.LEASE_OWNER)
        if not owner or owner == self.owner:
            return None
        try:
            heartbeat = float(tags.get(contract.LEASE_HEARTBEAT, "0"))
            since = float(tags.get(contract.LEASE_SINCE, heartbeat))
        except ValueError:
            return None
        age = time.time() - heartbeat
        if age > STALE_SECONDS:
            return None
        host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        if host == self.host and pid == str(self.driver_pid):
            return None  # this driver's own, from a store process of it that died
        if host == self.host and pid.isdigit() and not _alive_here(int(pid)):
            return None
        return (
            f"another driver ({owner}) has been running this sweep since {_when(since)} "
            f"(last heartbeat {max(age, 0):.0f} s ago); wait for it to end, or for its lease to "
            f"go stale {STALE_SECONDS:.0f} s after its last heartbeat"
        )

    def acquire(self) -> None:
        """Take the lease, or raise LeaseHeld naming the driver that holds it."""
        held = self.holder(self.client.get_run(self.run_id).data.tags)
        if held:
            raise LeaseHeld(held)
        now = f"{time.time():.3f}"
        self.client.log_batch(
            self.run_id,
            tags=[
                RunTag(contract.LEASE_OWNER, self.owner),
                RunTag(contract.LEASE_SINCE, now),
                RunTag(contract.LEASE_HEARTBEAT, now),
            ],
        )
        time.sleep(SETTLE_SECONDS)
        held = self.holder(self.client.get_run(self.run_id).data.tags)
        if held:
            raise LeaseHeld(held)
        self.last_beat = float(now)
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            if os.getpid() != self.driver_pid and os.getppid() != self.driver_pid:
                return  # the driver is gone: let the lease go stale
            try:
                if not self.holds():
                    return  # taken over: nothing to keep alive
                self.client.set_tag(self.run_id, contract.LEASE_HEARTBEAT, f"{time.time():.3f}")
                self.last_beat = time.time()
            except Exception:
                continue  # the store is busy or away: the next beat tries again

    def holds(self) -> bool:
        """Whether this driver still holds the lease, read from the store now; once it does
        not, `lost` says who took it over. Store errors are the caller's."""
        if self.lost is None:
            owner = self.client.get_run(self.run_id).data.tags.get(contract.LEASE_OWNER)
            if owner != self.owner:
                silent = time.time() - self.last_beat
                self.lost = (
                    f"another driver ({owner or 'one since ended'}) took this sweep over; this "
                    f"driver's last heartbeat reached the store {silent:.0f} s before (a lease "
                    f"is stale after {STALE_SECONDS:.0f} s), so it stopped and left the sweep, "
                    "its parent run included, to that driver"
                )
        return self.lost is None

    def check(self) -> None:
        """LeaseLost if this driver no longer holds the lease. As the last heartbeat found it,
        with no store call, unless no heartbeat reached the store for two beats (the driver was
        stopped, or cut off from the store, for a while): then read back now."""
        if self.lost is None and time.time() - self.last_beat > 2 * HEARTBEAT_SECONDS:
            self.holds()
        if self.lost is not None:
            raise LeaseLost(self.lost)

    def confirm(self) -> None:
        """LeaseLost if this driver no longer holds the lease, read back from the store now."""
        if not self.holds():
            raise LeaseLost(self.lost)

    def release(self) -> None:
        """Stop the heartbeat and give the lease up, if this driver still holds it."""
        self._stop.set()
        if self._thread is None:
            return
        self._thread.join()
        self._thread = None
        if self.lost is not None:
            return  # another driver's now
        try:
            if self.client.get_run(self.run_id).data.tags.get(contract.LEASE_OWNER) == self.owner:
                self.client.delete_tag(self.run_id, contract.LEASE_OWNER)
        except Exception:
            return  # unreachable: the lease goes stale on its own
