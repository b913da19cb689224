"""Plan a sweep: its command line composed into trials, and the searches that propose them.

compose.py    the command line split into session keys and trial keys, expanded by the search
overrides.py  Hydra's override grammar (with `logspace`); composer.py: a point composed fast
grid.py       every point of the axes as checked trial configs (`Grid`, `Trial`)
space.py      continuous and categorical spaces in Hydra's grammar, sampled into trials
ranking.py    which final metric decides the best trials (`sweep.metric`, `sweep.mode`)
search.py     the `Search` interface every search implements
searches/     the searches, and their registry
"""
