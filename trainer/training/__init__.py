"""What computes a trial's numbers: `train(config) -> Result`, divergence, the worker's trial.

With autodiff/, optimizers/ and trainer/tasks/, this is the code a trial's fingerprint covers
(trainer/tracking/provenance.py): an edit here retrains a sweep's trials, an edit to the sweep
engine does not.
"""
