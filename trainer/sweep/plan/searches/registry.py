"""Every search by its `sweep.search` name: a new search is one module and one entry here."""

from trainer.config.errors import ConfigError
from trainer.sweep.plan.search import Search
from trainer.sweep.plan.searches.boundary_search import EdgeOfStabilitySearch
from trainer.sweep.plan.searches.grid_search import GridSearch
from trainer.sweep.plan.searches.halving_search import HalvingSearch
from trainer.sweep.plan.searches.lr_range_search import LrRangeSearch
from trainer.sweep.plan.searches.sampled_search import RandomSearch, SobolSearch
from trainer.sweep.plan.searches.tpe_search import TpeSearch

SEARCHES: dict[str, type[Search]] = {
    search.name: search
    for search in (
        GridSearch,
        EdgeOfStabilitySearch,
        RandomSearch,
        SobolSearch,
        TpeSearch,
        HalvingSearch,
        LrRangeSearch,
    )
}


def search_named(name: str) -> type[Search]:
    """The Search class `sweep.search=name` picks; ConfigError naming those there are."""
    if name not in SEARCHES:
        allowed = ", ".join(SEARCHES)
        raise ConfigError(f"sweep.search={name} is not allowed: choose one of {allowed}")
    return SEARCHES[name]


def sampling_searches() -> list[str]:
    """The searches that draw trials from continuous ranges (`interval()`)."""
    return [name for name, search in SEARCHES.items() if search.samples_ranges]
