"""The MLflow run contract: every tag, metric, param and file name a run is written and read by.

The writers (`trainer/tracking/run_record.py`, `trainer/sweep/record/mlflow/`), the reader
(`trainer/sweep/report/rows.py`) and the tests all name a record's parts through this module.
"""

# A trial's run: its tags. The outcome's values are CONVERGED, DIVERGED, FAILED
# (trainer/training/result.py).
OUTCOME = "outcome"
WALL_TIME = "wall_time"  # seconds, as text with 4 decimals
TRIAL_ID = "trial_id"  # hash of the resolved config: what a rerun resumes by
NODE = "node"  # the Ray node that ran the trial (its id)
NODE_ADDRESS = "node.address"  # that node's IP address, as Ray knows it
# Set when the trial was trained in a population (trainer/training/population.py): how many
# trials, its own included, were trained as one vectorised program.
POPULATION = "population"
DIVERGENCE = "divergence."  # the prefix of the four tags below, set only for a diverged run
DIVERGENCE_STEP = DIVERGENCE + "step"
DIVERGENCE_REASON = DIVERGENCE + "reason"
DIVERGENCE_VALUE = DIVERGENCE + "value"
DIVERGENCE_LAST_FINITE_LOSS = DIVERGENCE + "last_finite_loss"
# MLflow's own tags: a child run points at its sweep's parent, and every run has a name.
PARENT_RUN_ID = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"
# A run's description, markdown; a sweep parent's is the command line that reproduces it.
NOTE = "mlflow.note.content"
# MLflow's experiment tag for what kind of work it holds: its UI opens a model-training
# experiment on its runs and charts, not on the GenAI traces it otherwise assumes.
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"

# A trial's run: its params are the flattened config, plus lr's exponent for MLflow's charts.
LOG10_LR = "log10_lr"

# A trial's run: its metrics. Evaluations add the task's own keys (VAL_LOSS, VAL_ACCURACY).
TRAIN_LOSS = "train_loss"  # one point per step, or one in trainer.log_every
VAL_LOSS = "val_loss"
VAL_ACCURACY = "val_accuracy"
DIVERGED_METRIC = "diverged"  # 1.0 or 0.0 at the last step; absent for a failed trial


def final(metric: str) -> str:
    """The metric's value at the end of the run: `final_train_loss`, `final_val_loss`, ..."""
    return f"final_{metric}"


FINAL_TRAIN_LOSS = final(TRAIN_LOSS)
FINAL_VAL_LOSS = final(VAL_LOSS)
FINAL_VAL_ACCURACY = final(VAL_ACCURACY)
FINAL_KEYS = (FINAL_TRAIN_LOSS, FINAL_VAL_LOSS, FINAL_VAL_ACCURACY)

# A trial's run: its files.
CONFIG_FILE = "config.yaml"
TRACEBACK_FILE = "traceback.txt"  # a failed trial's
# Every step's train_loss, float64 (trainer/tracking/curve.py).
TRAIN_LOSS_FILE = "train_loss.npz"
TRAJECTORY_FILE = "trajectory.png"  # 2-D tasks only

# A sweep's parent run: tags, params, metrics (also one per outcome: trials that ended so), files.
SWEEP_ID = "sweep_id"
SWEEP_NAME = "sweep.name"  # a tag and a param
GRID_SIZE = "grid_size"
AXIS = "axis."  # axis.<key>: the values swept, comma-separated
FIXED = "fixed."  # fixed.<key>: a value every trial shares
TRIALS = "trials"
BEST_FINAL_LOSS = "best_final_loss"
WALL_TIME_S = "wall_time_s"
LOGGING_S = "logging_s"
RESULTS_FILE = "results.csv"
HEATMAP_FILE = "heatmap.png"
LOSS_CURVES_FILE = "loss_curves.png"
SUMMARY_FILE = "summary.txt"
CONFIGS_FILE = "configs.csv"  # one row per configuration: its seeds aggregated
COMPARE_FILE = "compare.png"  # each optimizer's best configuration with its interval
IMPORTANCE_FILE = "importance.png"  # what mattered: each key's share of the variance
SEARCH_FILE = "search.png"  # the metric against each searched key, and the best so far
# A boundary search's parent: lr* against the second axis, and one line per point.
BOUNDARY_FILE = "boundary.png"
BOUNDARY_CSV_FILE = "boundary.csv"
# A learning-rate range test's parent: loss against lr, each point's suggestion marked.
LR_RANGE_FILE = "lr_range.png"

# An optimizer config's keys that are not hyperparameters: Hydra's and the option's name.
NOT_HYPERPARAMETERS = ("_target_", "_partial_", "name")


def hyperparameters(optimizer: dict) -> dict:
    """The optimizer config's hyperparameters: every key but those of NOT_HYPERPARAMETERS."""
    return {key: value for key, value in optimizer.items() if key not in NOT_HYPERPARAMETERS}


# Which code produced a run (trainer/tracking/provenance.py): on every child and on the parent.
CODE_FINGERPRINT = "code.fingerprint"
# A child trained by code that has since changed: kept, never counted in the sweep's summary.
SUPERSEDED = "superseded"  # "true"
SUPERSEDED_BY = "superseded_by"  # the code fingerprint of the rerun that replaced it
# Why a run ended FAILED or KILLED: a parent cut short, or a child MLflow refused.
FAILURE_REASON = "failure.reason"
# The parent's lease (trainer/sweep/record/lease.py): one driver per sweep.
LEASE_OWNER = "lease.owner"  # host:pid:uuid of the driver holding the sweep
LEASE_SINCE = "lease.since"  # seconds since the epoch when it took the lease
LEASE_HEARTBEAT = "lease.heartbeat"  # seconds since the epoch, refreshed while it lives

# How a sweep's parent run holds its trials (tracking.children): its tag RECORD_FORM says which.
RECORD_FORM = "sweep.record"
CHILD_RUNS = "child_runs"  # tracking.children=true: a child run per trial (the default)
TABLE = "table"  # tracking.children=false: the parent alone, its trials a table of parts
# The table's parts: each a compressed .npz of columns (trainer/sweep/record/mlflow/parts.py),
# one per call that logged trials, under this artifact folder of the parent.
TRIALS_FOLDER = "trials"
