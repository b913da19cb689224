"""Run a sweep: Ray started or attached, trials handed to workers, results gathered and told.

driver.py     Ray started while the store opens, the lease taken, the search run, Ray stopped
loop.py       the one loop that drives any Search: proposals answered, trained, told, logged
logged.py     results logged in slices while workers train; the last ones beside the summary
ray_tasks.py  Ray tasks of several trials each, their Results handed back as they finish
populations.py  which trials train as one program, dealt out across the CPUs
task_data.py  the trials' datasets, loaded by the driver while Ray starts, for every worker
cluster.py, ray_setup.py: a local Ray on loopback, or a cluster with the code shipped
batching.py   how many results go to the store per call; signals.py: Ctrl-C and SIGTERM
"""
