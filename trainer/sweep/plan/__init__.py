"""Plan a sweep: its command line composed into trials, and the searches that propose them.

compose.py   the command line split into session keys and trial keys, then expanded
grid.py      Hydra's override grammar expanded into checked trial configs (`Grid`, `Trial`)
ranking.py   which final metric decides the best trials (`sweep.metric`, `sweep.mode`)
search.py    the `Search` interface every search implements
registry.py  every search by its `sweep.search` name
grid_search.py, boundary_search.py (with boundary.py, its pure bisection): the searches

Adding a search: one module here with a subclass of `search.Search` that sets `name` (what
`sweep.search=` selects) and implements
- `expand(sweep_cfg, trial_args, config_loader) -> Grid`: the trials or points it searches
  over, checked before anything starts (a ConfigError in one line for what it refuses);
- `propose() -> list[Proposal]`: the next batch (a Trial, its run name and extra tags), empty
  once done; the loop answers each from the record where an earlier run finished it;
- `tell(proposal, row)`: a trial's result, diverged and failed ones included;
- `progress()`, and `summarise(rows, elapsed) -> (text, ParentSummary)`: what it found, drawn
  with the report room's functions; optionally `end_round`, `announce`, `unfinished`;
then one entry in `registry.SEARCHES`. The shared tests in tests/sweep/test_searches.py run
every registered search; the store, Ray and the record are the loop's business, not the search's.
"""
