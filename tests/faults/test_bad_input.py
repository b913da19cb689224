"""Wrong input: one clear line, exit code 2, before Ray starts or the store is touched.

Each case runs `scripts/sweep.py` or `scripts/train.py` once, in an empty working directory (where
the default store, ./mlflow.db, would appear) with an empty Ray temp directory (where a Ray it
started would leave a session) and no cluster to find. Every other case without a tracking.uri of
its own points at a store made once for this module, with a run in it, which must not change.

Every case runs in this process, through the script's own entry point (`cli.run(main, USAGE)`,
see entry.py): the same code from the command line to the exit code, without an interpreter's
start per case. A few of them also run as `python scripts/...` (slow), proving that the scripts
themselves exit 2 with that one line.
"""

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from entry import run_main
from mlflow import MlflowClient
from mlflow.entities import ViewType
from support import free_port, run_script, sqlite_uri

CLOSED = free_port()


@dataclass(frozen=True)
class Case:
    """A mistake: the script, its arguments ({store} is the module's store folder), what the one
    line must name (the key, with its value where it has one), a fragment of what it says is
    allowed, and the environment beyond ours."""

    script: str
    overrides: tuple[str, ...]
    names: str
    allows: str
    env: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        env = "".join(f" ({name}={value})" for name, value in self.env)
        return f"{self.script} {' '.join(self.overrides)}{env}"


def case(script: str, args: str, allows: str, names: str = "", **env: str) -> Case:
    """`args` split on spaces; the line must name the last argument unless `names` says else."""
    overrides = tuple(args.split())
    return Case(script, overrides, names or overrides[-1], allows, tuple(sorted(env.items())))


def sweep(args: str, allows: str, names: str = "", **env: str) -> Case:
    return case("sweep.py", args, allows, names, **env)


def train(args: str, allows: str, names: str = "", **env: str) -> Case:
    return case("train.py", args, allows, names, **env)


PRINT = "+task.foo={_target_:builtins.print,_args_:[X]}"
STORE = "tracking.uri=sqlite:///{store}/mlflow.db"
SECRET = f"http://u:secretpw@127.0.0.1:{CLOSED}"
CASES = [
    # Named in issue 10: they leaked a traceback, hung, or were accepted and recorded wrongly.
    sweep("ray.address=auto", "ray start --head"),
    sweep("ray.num_cpus=-1", ">= 1"),
    sweep("ray.num_cpus=0", ">= 1"),
    sweep("sweep.trials_per_task=-1", ">= 1"),
    sweep("tracking.uri=http://127.0.0.1:99999", "1..65535"),
    sweep("optimizer.lr=${task.name}", "Float"),
    sweep("tracking.uri=${oc.env:NOPE}", "'NOPE' not found"),
    sweep("optimizer.lr=range(1,10,0)", "must not be zero"),
    sweep("task._target_=builtins.dict", "subclass of trainer.tasks.base.Task"),
    sweep("optimizer._target_=builtins.dict", "subclass of optimizers.Optimizer"),
    sweep("+trainer.stpes=5", "takes batch_size, divergence", names="trainer.stpes"),
    sweep("tracking.uri=sqlite://", "name a file"),
    sweep(f"tracking.uri={SECRET}", "running one", names="tracking.uri=http://u:***@127"),
    sweep(PRINT, "only by optimizer._target_ or task._target_", names="task.foo._target_"),
    # Earlier ones: ranges, options, Hydra's grammar, the grid, the store, the cluster.
    sweep("optimizer.lr=0", "> 0"),
    sweep("optimizer.momentum=1.0", "[0, 1)"),
    sweep("optimizer=rmsprop optimizer.rho=1.5", "(0, 1)"),
    sweep("optimizer=adagrad optimizer.delta=0", "> 0"),
    sweep("trainer.steps=0", "> 0"),
    sweep("trainer.batch_size=5000", "<= 1437"),
    sweep("optimizer=lbfgs", "adagrad, adam"),
    sweep("task=mnist", "quadratic"),
    sweep("optimizer.lr=range(1,1)", "no values", names="optimizer.lr"),
    sweep("optimizer.lr=0.1,fast", "Float", names="optimizer.lr=fast"),
    sweep("optimizer.lr=[0.1", "malformed"),
    sweep("trainer.patience=3", "+trainer.patience", names="trainer.patience"),
    sweep("optimizer.momentum=0.5,0.9,0.5", "distinct", names="optimizer.momentum"),
    sweep("tracking.uri=sqlite:///{store}/not-a-dir/x.db", "cannot be written"),
    sweep("tracking.uri=sqlite:///{store}", "is a directory"),
    sweep("tracking.uri=file:///tmp/mlruns", "sqlite://"),
    sweep(f"tracking.uri=http://127.0.0.1:{CLOSED}", "running one"),
    sweep(f"ray.address=127.0.0.1:{CLOSED}", "ray start --head"),
    sweep("ray.address=nowhere", "host:port"),
    # Our own.
    sweep("sweep.metric=final_bogus", "final_train_loss, final_val_loss"),
    sweep("sweep.mode=median", "min or max"),
    # The default sweep ranks by final_val_loss: a loss is best at its minimum.
    sweep("sweep.mode=max", "sweep.mode=max"),
    sweep("sweep=quadratic sweep.metric=final_val_loss", "no validation data"),
    sweep(
        "ray.address=auto", "ray start", names="RAY_ADDRESS says", RAY_ADDRESS=f"127.0.0.1:{CLOSED}"
    ),
    sweep("ray.address=127.0.0.1:70000", "1..65535"),
    sweep("ray.num_cpus=1.5", "Integer"),
    sweep("ray.num_cpus=1,2", "can be swept", names="ray.num_cpus"),
    sweep("sweep.trials_per_task=0", ">= 1"),
    sweep("sweep.name=", "name the sweep", names="sweep.name"),
    sweep("tracking.experiment=", "name the MLflow experiment", names="tracking.experiment"),
    sweep("tracking.children=maybe", "not a valid bool", names="tracking.children=maybe"),
    sweep("tracking.children=true,false", "can be swept", names="tracking.children"),
    sweep("tracking.uri=sqlite:///:memory:", "name a file"),
    sweep("tracking.uri=http://", "host:port"),
    sweep(f"tracking.uri=postgresql://u:secretpw@127.0.0.1:{CLOSED}/db", "running", names=":***@"),
    sweep(
        "tracking.uri=postgres://u:secretpw@db:5432/x",
        "as in postgresql://u:***@db:5432/x",
        names="tracking.uri=postgres://u:***@db",
    ),
    train(
        "tracking.uri=postgres://u:secretpw@db:5432/x",
        "as in postgresql://u:***@db:5432/x",
        names="tracking.uri=postgres://u:***@db",
    ),
    sweep("tracking.uri=sqlite:///{store}/missing/mlflow.db", "does not exist"),
    sweep("optimizer.lr=logspace(1,0,3)", "stop > 0"),
    sweep("optimizer.lr=interval(0,1)", "use sweep.search=random, sweep.search=sobol"),
    sweep("sweep.search=random optimizer.lr=tag(log,interval(0,1))", "log interval needs low > 0"),
    sweep("sweep.search=sobol sweep.n_trials=0", ">= 1"),
    sweep("sweep.search=tpe sweep.seeds=3", "one seed at a time; seeds go with grid"),
    sweep("sweep.search=halving optimizer.lr=interval(0.01,1) sweep.halving.eta=1", ">= 2"),
    sweep(
        "sweep.search=lr_range sweep.lr_range.low=100",
        "it must be > sweep.lr_range.low=100.0",
        names="sweep.lr_range.high=10.0",
    ),
    sweep("sweep.search=lr_range optimizer.lr=0.1,0.2", "lr_range raises optimizer.lr itself"),
    sweep("sweep.aggregate=mode", "use mean or median"),
    sweep("optimizer._partial_=false", "must be true", names="optimizer._partial_=False"),
    sweep("+optimizer._args_=[1]", "takes lr, momentum", names="optimizer._args_"),
    sweep("task=quadratic +task.foo=1", "takes a, condition, start", names="task.foo"),
    sweep("+trainer.divergence.x=5", "takes factor", names="trainer.divergence.x"),
    sweep("trainer.divergence.factor=0.5", "> 1"),
    sweep("trainer.seed=-1", ">= 0"),
    sweep("task._target_=nopackage.Task", "no module named 'nopackage'"),
    sweep("~optimizer", "conf/optimizer/*.yaml", names="optimizer is required"),
    sweep("+hydra.job.chdir=true", "no effect here", names="hydra.*"),
    sweep("+foo=1", "optimizer.foo, task.foo or trainer.foo", names="foo is not allowed"),
    sweep("+ray.foo=1", "ray takes address, dashboard, num_cpus", names="ray.foo"),
    sweep(
        "+tracking.name=x",
        "tracking takes children, enabled, experiment, retry_seconds, uri",
        names="tracking.name",
    ),
    sweep("task=rosenbrock +task._partial_=true", "takes start", names="task._partial_"),
    sweep("+sweep.params.x=1", "optimizer, task, trainer", names="sweep.params.x"),
    sweep("tracking.uri=sqlite:////dev/null", "not an SQLite database"),
    sweep("tracking.uri=u:secretpw@127.0.0.1:5000", "use one of http://", names="=***@127.0.0.1"),
    sweep("ray.address=ray://127.0.0.1", "nothing is listening"),
    sweep(f"tracking.experiment=gone {STORE}", "experiments restore", names="experiment=gone"),
    train("optimizer.lr=0.1,0.2", "scripts/sweep.py"),
    train("optimizer.lr=range(1,10,0)", "scripts/sweep.py"),
    train("trainer.steps=-5", "> 0"),
    train("+trainer.stpes=5", "takes batch_size", names="trainer.stpes"),
    train("optimizer._target_=builtins.dict", "subclass of optimizers.Optimizer"),
    train(PRINT, "only by optimizer._target_ or task._target_", names="task.foo._target_"),
    train("tracking.uri=sqlite://", "name a file"),
    train(f"tracking.uri={SECRET}", "running one", names="tracking.uri=http://u:***@127"),
    train("tracking.uri=${oc.env:NOPE}", "'NOPE' not found"),
    train("tracking.uri=http://127.0.0.1:0", "1..65535"),
    train("ray.num_cpus=2", "+ray.num_cpus", names="ray.num_cpus"),
    train(
        "+tracking.foo=1",
        "tracking takes children, enabled, experiment, retry_seconds, uri",
        names="tracking.foo",
    ),
    train("+hydra.run.dir=x", "no effect here", names="hydra.*"),
    train(f"tracking.experiment=gone {STORE}", "experiments restore", names="experiment=gone"),
]


def fingerprint(folder: Path) -> dict:
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_count(folder: Path) -> int:
    client = MlflowClient(sqlite_uri(folder))
    experiments = client.search_experiments(view_type=ViewType.ALL)
    ids = [e.experiment_id for e in experiments]
    return len(client.search_runs(ids, run_view_type=ViewType.ALL))


@pytest.fixture(scope="module")
def store(tmp_path_factory, copy_store):
    """A store holding an experiment with a run, and a deleted one; no case may change it."""
    folder = tmp_path_factory.mktemp("existing-store")
    (folder / "not-a-dir").write_text("a file where a directory should be")
    client = MlflowClient(copy_store(folder))
    run = client.create_run(client.create_experiment("gradsweep"))
    client.set_terminated(run.info.run_id)
    client.delete_experiment(client.create_experiment("gone"))
    return folder


def refused(run, store: Path, tmp_path: Path, index: int) -> None:
    """Case `index` run by `run(script, *args, cwd=, env=)`: refused in one line, exit code 2,
    nothing written."""
    mistake = CASES[index]
    cwd, ray_tmp = tmp_path / "cwd", tmp_path / "ray-tmp"
    cwd.mkdir()
    ray_tmp.mkdir()
    args = [o.replace("{store}", str(store)) for o in mistake.overrides]
    # Half the cases would write to the default store, ./mlflow.db; the others to the module's.
    if index % 2 and not any(a.startswith("tracking") for a in args):
        args.append(f"tracking.uri={sqlite_uri(store)}")
    runs = run_count(store)
    before = fingerprint(store)
    # No cluster to find: Ray's temp directory is empty and RAY_ADDRESS unset (empty).
    env = {"RAY_TMPDIR": str(ray_tmp), "RAY_ADDRESS": "", **dict(mistake.env)}
    done = run(mistake.script, *args, cwd=cwd, env=env)

    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "secretpw" not in output, output
    assert done.stdout == "", output
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    names = mistake.names.replace("{store}", str(store))
    assert names in lines[0] and mistake.allows in lines[0], lines[0]
    # Nothing written: no default store, no Ray session, the existing store as it was.
    assert list(cwd.iterdir()) == [] and list(ray_tmp.iterdir()) == []
    assert fingerprint(store) == before and run_count(store) == runs


def shown(mistake: Case) -> str:
    """The case as a test id: the same in every process (pytest-xdist's workers collect alike),
    the closed port a free port of this one."""
    return str(mistake).replace(str(CLOSED), "CLOSED")


IDS = [shown(c) for c in CASES]


@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(store, tmp_path, capfd, index):
    def in_process(script, *args, cwd, env):
        return run_main(script, *args, cwd=cwd, env=env, capfd=capfd)

    refused(in_process, store, tmp_path, index)
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


# As `python scripts/...`: Ray's and the store's preflight, Hydra's grammar, a sweep given to
# train.py, a secret in a URI. The interpreter's own exit code and its stderr, one line.
LAUNCHED = [
    "sweep.py ray.address=auto",
    "sweep.py tracking.uri=http://127.0.0.1:CLOSED",
    "sweep.py optimizer.lr=[0.1",
    "train.py optimizer.lr=0.1,0.2",
    "train.py tracking.uri=http://u:secretpw@127.0.0.1:CLOSED",
]


@pytest.mark.slow
@pytest.mark.parametrize("index", [IDS.index(name) for name in LAUNCHED], ids=LAUNCHED)
def test_the_scripts_themselves_exit_2_with_one_line(store, tmp_path, index):
    def launched(script, *args, cwd, env):
        return run_script(script, *args, cwd=cwd, env=env, timeout=120)

    refused(launched, store, tmp_path, index)


def test_there_are_at_least_30_distinct_mistakes():
    assert len(set(CASES)) == len(CASES) >= 30
