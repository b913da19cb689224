"""How a search's trials are drawn (searched keys, proposal order), kept apart from matplotlib."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Searched:
    """A searched key as the figure draws it: on a log axis or not, numbers or categories."""

    key: str
    log: bool = False
    categorical: bool = False


@dataclass
class Searching:
    """How a search's trials are drawn: the searched keys, each trial's place in the order they
    were proposed, whether a heatmap fits (a grid's axes), the axes the loss curves follow."""

    keys: list[Searched]
    order: dict[str, int] = field(default_factory=dict)
    heatmap: bool = True
    curve_axes: dict[str, list[str]] | None = None
