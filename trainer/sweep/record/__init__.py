"""Record a sweep: the Store interface and its implementations, each trial written exactly once.

store.py          the interfaces: `Store` (what the sweep calls) and `Backend` (what writes)
open.py           the sweep's store as the driver opens it
spooled_store.py  a Backend with the local spool as its fallback: the Store of a tracked sweep
mlflow/           the MLflow Backends: the parent run (resumed by sweep_id) with a child run
                  per trial (child_runs.py) or, tracking.children=false, a table of parts
                  (table_runs.py, parts.py); reader.py reads either back
store_process.py  the same Backend in a child process, its methods forwarded from `Backend`
no_store.py       the Store of `tracking=none`
spool.py          the local file of results the store could not take, with their names and tags
lease.py          one driver per sweep; retry.py: the one retry policy
children.py, rows.py: child runs read back in bulk, a trial's row

Adding a store: a tracking store MLflow can open is already one (sqlite, PostgreSQL, a server).
Another kind is a subclass of `store.Backend` (wrapped by SpooledStore, so it gets the spool
and the retry policy) or, for a store with no outage to survive, of `store.Store`; then one line
in `open.open_store` choosing it. It is a store when a subclass of the contract suite
(tests/helpers/store_contract.py), one more class in tests/sweep/test_store_contract.py, passes.
"""
