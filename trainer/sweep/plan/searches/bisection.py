"""Edge-of-stability search: bisect each point's learning rate in log space to where it diverges.

Pure logic: the search proposes probes (learning rates) round by round and is told each probe's
outcome; who trains them (Ray, a store of finished trials, a test's oracle) is not its business.
The same settings and the same outcomes always give the same probes, so a rerun that answers
from finished trials retraces the search exactly and continues where it stopped.
"""

import math
from dataclasses import dataclass, field

from trainer.config.ranges import check_bracket
from trainer.config.schema import BoundaryConf
from trainer.training.result import CONVERGED, DIVERGED

SIGNIFICANT_DIGITS = 6
# Found: a bracket [low, high], low trains and high diverges, (high - low) / low <= rtol.
FOUND, NO_DIVERGENCE, DIVERGES_AT_LOW, FAILED_PROBE, UNFINISHED = (
    "found",
    "no divergence",
    "diverges at low",
    "failed",
    "unfinished",
)


def rounded(lr: float) -> float:
    """Probes carry 6 significant digits: readable params and run names, identical on rerun."""
    return float(f"{lr:.{SIGNIFICANT_DIGITS}g}")


@dataclass(frozen=True)
class Settings:
    """`sweep.boundary.*` (defaults in trainer/config/schema.py): the starting bracket, the stopping
    width, how far the bracket may widen, probes per point per round, and a cap on rounds."""

    low: float
    high: float
    rtol: float
    max_decades: int = 3
    probes: int | None = None
    max_rounds: int | None = None

    @classmethod
    def from_config(cls, boundary: dict) -> "Settings":
        """Check every value, each failure one line naming the key and what is allowed: the
        ranges BoundaryConf declares (trainer/config/schema.py), then high above low."""
        given = {
            key: allowed
            for key, allowed in BoundaryConf.ranges.items()
            if boundary[key] is not None
        }
        check_bracket("sweep.boundary", boundary, given)
        return cls(**{key: boundary[key] for key in BoundaryConf.ranges})


@dataclass(frozen=True)
class Probe:
    """One learning rate to train for one point, and the round and bracket that asked for it."""

    point: int
    lr: float
    round: int
    low: float
    high: float


@dataclass
class PointSearch:
    """One point's bracket: widened by decades until low trains and high diverges, then cut."""

    low: float
    high: float
    settings: Settings
    outcomes: dict[float, str] = field(default_factory=dict)
    decades_widened: int = 0
    status: str = UNFINISHED

    @property
    def done(self) -> bool:
        return self.status != UNFINISHED

    @property
    def probes_used(self) -> int:
        return len(self.outcomes)

    @property
    def lr_star(self) -> float | None:
        """The bracket's geometric middle: within sqrt(1 + rtol) of either end."""
        return math.sqrt(self.low * self.high) if self.status == FOUND else None

    def propose(self, per_round: int) -> list[float]:
        ends = [lr for lr in (self.low, self.high) if lr not in self.outcomes]
        if ends:
            return ends
        # k-section: k probes cut [low, high] into k + 1 equal parts in log space; no more than
        # reaching rtol in this round needs.
        ratio = self.high / self.low
        needed = math.ceil(math.log(ratio) / math.log1p(self.settings.rtol))
        k = max(1, min(per_round, needed - 1))
        cuts = [rounded(self.low * ratio ** (i / (k + 1))) for i in range(1, k + 1)]
        return sorted({lr for lr in cuts if self.low < lr < self.high})

    def record(self, lr: float, outcome: str) -> None:
        self.outcomes[lr] = outcome

    def settle(self) -> None:
        """After a round: move the bracket, widen it, or end the search for this point."""
        if any(outcome not in (CONVERGED, DIVERGED) for outcome in self.outcomes.values()):
            self.status = FAILED_PROBE
            return
        if self.low not in self.outcomes or self.high not in self.outcomes:
            return
        if self.outcomes[self.low] == DIVERGED:
            self._widen(down=True)
        elif self.outcomes[self.high] == CONVERGED:
            self._widen(down=False)
        else:
            self._cut()

    def _widen(self, down: bool) -> None:
        if self.decades_widened >= self.settings.max_decades:
            self.status = DIVERGES_AT_LOW if down else NO_DIVERGENCE
            return
        self.decades_widened += 1
        # The end that failed the bracket is known: it becomes the other end of the new one.
        if down:
            self.low, self.high = rounded(self.low / 10), self.low
        else:
            self.low, self.high = self.high, rounded(self.high * 10)

    def _cut(self) -> None:
        """The lowest diverging probe in the bracket is the new high, the probe below it low."""
        inside = sorted(lr for lr in self.outcomes if self.low <= lr <= self.high)
        first = next(i for i, lr in enumerate(inside) if self.outcomes[lr] == DIVERGED)
        self.low, self.high = inside[first - 1], inside[first]
        fine = (self.high - self.low) / self.low <= self.settings.rtol
        if fine or not self.propose(1):
            self.status = FOUND


class BoundarySearch:
    """All points advance together: each round is one batch of probes, every point's at once."""

    def __init__(self, points: int, settings: Settings, cpus: int):
        self.settings, self.cpus = settings, cpus
        self.points = [PointSearch(settings.low, settings.high, settings) for _ in range(points)]
        self.round = 0

    @property
    def done(self) -> bool:
        return all(point.done for point in self.points)

    @property
    def capped(self) -> bool:
        """True when sweep.boundary.max_rounds ends the search before every point is done."""
        cap = self.settings.max_rounds
        return not self.done and cap is not None and self.round >= cap

    def propose(self) -> list[Probe]:
        """The next round's probes; empty once every point is done or the round cap is hit."""
        if self.done or self.capped:
            return []
        self.round += 1
        searching = [(i, p) for i, p in enumerate(self.points) if not p.done]
        # With more CPUs than points, several probes per point keep every CPU busy.
        per_round = self.settings.probes or max(1, self.cpus // len(searching))
        return [
            Probe(i, lr, self.round, point.low, point.high)
            for i, point in searching
            for lr in point.propose(per_round)
        ]

    def record(self, outcomes: dict[Probe, str]) -> None:
        """A whole round's outcomes (converged, diverged or failed), then every bracket moves."""
        for probe, outcome in outcomes.items():
            self.points[probe.point].record(probe.lr, outcome)
        for point in self.points:
            if not point.done:
                point.settle()


def search_with(oracle, points: int, settings: Settings, cpus: int) -> BoundarySearch:
    """Run a whole search against `oracle(probe) -> outcome`; the driver's loop without Ray."""
    search = BoundarySearch(points, settings, cpus)
    while probes := search.propose():
        search.record({probe: oracle(probe) for probe in probes})
    return search
