"""Divergence checks for a population: each member checked as `DivergenceMonitor` checks one run."""

import numpy as np

from trainer.training.population_rows import member_rows
from trainer.training.result import Divergence


class PopulationMonitor:
    """`DivergenceMonitor` for P members at once: per member a threshold and a last finite loss.

    Nothing is reduced across members: each member's checks read its own losses, gradients,
    parameters and optimizer state only, and fire in the single monitor's order (non-finite
    loss, loss above the threshold, then non-finite gradient, parameter, optimizer state).
    """

    def __init__(self, factor: float, members: int):
        self.factor = factor
        self.threshold = np.full(members, np.inf)
        self.last_finite_loss = np.full(members, np.nan)  # nan: none yet (the monitor's None)
        self.unset = True  # no check yet: the first finite losses set the thresholds
        self.ones: dict[int, np.ndarray] = {}  # a vector of ones by length, for row sums

    def keep(self, kept: np.ndarray) -> None:
        """Only the members selected by the boolean array `kept` train on."""
        self.threshold, self.last_finite_loss = self.threshold[kept], self.last_finite_loss[kept]

    def check(self, step: int, loss: np.ndarray, params, optimizer) -> dict[int, Divergence]:
        """The members (positions in the arrays) that diverged at this step, with why. The
        caller drops them, so every member checked later has its threshold set already."""
        if not self.unset and not self._suspects(loss, params, optimizer).size:
            np.copyto(self.last_finite_loss, loss)  # every member's loss: finite, kept
            return {}
        return self._check_each(step, loss, params, optimizer)

    def _suspects(self, loss, params, optimizer) -> np.ndarray:
        """The members (positions) that one test per member does not show fine: a finite loss
        not above its threshold, and finite gradients, parameters and optimizer state. With
        none, there is nothing to report; else `_check_each` looks at every check.

        A member's loss plus every element of those arrays is finite only if each of them is:
        a non-finite element makes the sum inf or nan, and finite values whose sum overflows
        make it inf too (a suspect, looked at closer). Each parameter's arrays (one shape, a row
        per member) are added elementwise, then each row summed as a product with ones: a
        fraction of the cost of one reduction per array on short rows."""
        total = loss.copy()
        for param, state in zip(params, optimizer.state, strict=True):
            rows = param.data.copy()
            for array in (param.grad, *state.values()):
                if isinstance(array, np.ndarray):
                    rows += array
            total += rows.dot(self._ones(rows.shape[1]))
        fine = np.isfinite(total)
        fine &= loss <= self.threshold
        return np.flatnonzero(~fine)

    def _ones(self, n: int) -> np.ndarray:
        ones = self.ones.get(n)
        if ones is None:
            ones = self.ones[n] = np.ones(n)
        return ones

    def _check_each(self, step, loss, params, optimizer) -> dict[int, Divergence]:
        """Every check, member by member, in the single monitor's order."""
        found: dict[int, Divergence] = {}
        # A member is fine if its loss is finite and not above its threshold (nan <= x is False).
        ok = np.isfinite(loss)
        ok &= loss <= self.threshold
        if not ok.all():
            blown_up = f"loss above {self.factor:g} x initial"
            for m in np.flatnonzero(~ok):  # a non-finite loss first, as the single monitor
                why = blown_up if np.isfinite(loss[m]) else "non-finite loss"
                found[m] = Divergence(step, why, self._last(m), float(loss[m]))
        if self.unset:
            # The first finite loss sets the threshold: factor x |loss|, or none for a loss of 0.
            first = ok & np.isnan(self.last_finite_loss)
            with np.errstate(invalid="ignore"):
                start = np.where(loss == 0, np.inf, self.factor * np.abs(loss))
            self.threshold = np.where(first, start, self.threshold)
            self.unset = False
        np.copyto(self.last_finite_loss, loss, where=ok)
        gradients = [p.grad for p in params if p.grad is not None]
        parameters = [p.data for p in params]
        states = list(optimizer.state_arrays())
        # A member's finite sum proves its elements finite, as for a single run; its sums over
        # every array are added up (member by member) so one test covers them all. A member whose
        # total is not finite (a non-finite element, or finite sums that overflow) is looked at
        # element by element.
        first, *others = (member_rows(array) for array in (*gradients, *parameters, *states))
        total = np.add.reduce(first, axis=1)
        for rows in others:
            total += np.add.reduce(rows, axis=1)
        finite = np.isfinite(total)
        if not finite.all():
            suspects = ~finite & ok
            checks = (
                ("gradient", gradients),
                ("parameter", parameters),
                ("optimizer state", states),
            )
            for m in np.flatnonzero(suspects):
                for what, arrays in checks:
                    bad = first_non_finite(member_rows(a)[m] for a in arrays)
                    if bad is not None:
                        found[m] = Divergence(step, f"non-finite {what}", float(loss[m]), bad)
                        break
        return found

    def _last(self, m: int) -> float | None:
        value = self.last_finite_loss[m]
        return None if np.isnan(value) else float(value)


def first_non_finite(rows) -> float | None:
    """The first non-finite element among one member's rows, or None when all are finite."""
    for row in rows:
        bad = row[~np.isfinite(row)]
        if bad.size:
            return float(bad[0])
    return None
