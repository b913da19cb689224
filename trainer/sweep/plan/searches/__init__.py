"""The searches, each one module, every one registered by its `sweep.search` name.

Adding a search: one module here with a subclass of `plan.search.Search` that sets `name` (what
`sweep.search=` selects) and implements
- `expand(sweep_cfg, trial_args, config_loader) -> Grid`: the trials (or points) it searches
  over, checked before anything starts (a ConfigError in one line for what it refuses);
- `propose(free) -> list[Proposal]`: trials to run now (a Trial, its run name, extra tags),
  at most `free` where it adapts to results; empty while it waits for results, and once done;
- `tell(proposal, row, trained)`: a trial's result, diverged and failed ones included;
- `progress()` and `summarise(rows, elapsed) -> (text, ParentSummary)`: how far it got, and
  what it found, drawn with the report room's functions;
then one entry in `registry.SEARCHES`. tests/sweep/test_searches.py runs every registered
search; the store, Ray and the record are the loop's business (run/loop.py), not the search's.
"""
