"""What every part of one sweep shares, as one typed object: its settings, trials, store, CPUs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainer.config.redact import mask_uri

if TYPE_CHECKING:
    from trainer.sweep.plan.grid import Grid
    from trainer.sweep.record.store import Store


@dataclass
class SweepContext:
    """One sweep's context. `session` is the composed sweep/ray/tracking config, `grid` the
    trials (or, for the boundary search, the points) its command line expanded to, `uri` the
    tracking store (None for tracking=none), `started` its perf_counter at the start; `cpus` and
    `store` are set once Ray is up and the store open."""

    session: dict
    grid: Grid
    uri: str | None
    started: float
    cpus: int = 0
    store: Store | None = None

    @property
    def sweep(self) -> dict:
        """`sweep.*`: the search, its settings, the ranking metric."""
        return self.session["sweep"]

    @property
    def name(self) -> str:
        return self.session["sweep"]["name"]

    @property
    def tracking(self) -> dict:
        return self.session["tracking"]

    @property
    def tracking_label(self) -> str:
        """The store as the sweep's lines name it: its URI, credentials masked, or none."""
        return mask_uri(self.uri) if self.uri else "none"
