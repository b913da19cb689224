"""Grid expansion: Hydra's grammar, named sweeps, axes replaced or fixed, ids, dry run."""

import pytest
from hydra import compose
from support import run_script

from trainer.config.compose import compose_config, hydra_context, to_plain, trial_config
from trainer.config.errors import ConfigError
from trainer.sweep.plan.compose import compose_sweep
from trainer.sweep.plan.grid import expand
from trainer.sweep.plan.overrides import logspace


def grid_of(params: dict, cli: list[str]):
    with hydra_context() as loader:
        return expand(params, cli, loader)


def named(name: str) -> dict:
    with hydra_context():
        return to_plain(compose_config("sweep", [f"sweep={name}"]))["sweep"]["params"]


def test_logspace_is_log_spaced_with_three_significant_digits():
    values = logspace(1e-3, 30, 8).list
    assert values[0] == 1e-3 and values[-1] == 30
    ratios = [b / a for a, b in zip(values, values[1:], strict=False)]
    assert max(ratios) / min(ratios) < 1.01
    assert all(float(f"{v:.3g}") == v for v in values)


def test_default_sweep_is_lr_times_momentum_on_digits():
    grid = grid_of(named("default"), [])
    assert len(grid.trials) == 32
    assert set(grid.axes) == {"optimizer.lr", "optimizer.momentum"}
    assert [float(v) for v in grid.axes["optimizer.lr"]] == logspace(1e-3, 30, 8).list
    assert {t.config["task"]["name"] for t in grid.trials} == {"digits_mlp"}
    assert {t.config["optimizer"]["name"] for t in grid.trials} == {"momentum"}


def test_points_compose_exactly_as_hydra_compose():
    cli = [
        "task=quadratic",
        "optimizer=sgd,momentum,adam",
        "optimizer.lr=0.01,0.1",
        "trainer.seed=0,1",
        "task.condition=20",
    ]
    with hydra_context() as loader:
        grid = expand({}, cli, loader)
        for trial in grid.trials:
            expected = trial_config(to_plain(compose(config_name="train", overrides=trial.point)))
            assert trial.config == expected


def test_points_whose_axis_merges_a_dict_compose_exactly_as_hydra_compose():
    # A dict value is merged into its key (each from the base); a plain value replaces it.
    cli = [
        "task=quadratic",
        "optimizer=momentum",
        "trainer.divergence={factor:3},{factor:5}",
        "optimizer.lr=0.01,0.1",
        "task.start=[1.0,2.0],[-3.0,0.5]",
    ]
    with hydra_context() as loader:
        grid = expand({}, cli, loader)
        assert len(grid.trials) == 8
        for trial in grid.trials:
            expected = trial_config(to_plain(compose(config_name="train", overrides=trial.point)))
            assert trial.config == expected


def test_a_later_point_of_another_shape_is_checked_on_its_own():
    # The first point passes; the second names a class of the wrong kind.
    with pytest.raises(ConfigError, match=r"^optimizer\._target_=builtins\.dict is not allowed"):
        grid_of(
            {},
            ["task=quadratic", "optimizer=sgd", "optimizer._target_=optimizers.SGD,builtins.dict"],
        )


def test_command_line_axis_replaces_the_named_axis_and_a_plain_value_fixes_it():
    params = named("quadratic")
    grid = grid_of(params, ["optimizer.lr=0.01,0.02", "optimizer.momentum=0.5"])
    assert grid.axes == {"optimizer.lr": ["0.01", "0.02"]}
    assert grid.fixed["optimizer.momentum"] == "0.5"
    assert sorted(t.config["optimizer"]["lr"] for t in grid.trials) == [0.01, 0.02]
    assert {t.config["optimizer"]["momentum"] for t in grid.trials} == {0.5}


def test_seeds_are_an_axis_of_repeats_with_distinct_trial_ids():
    grid = grid_of({}, ["task=quadratic", "trainer.seed=range(3)", "optimizer.lr=0.01,0.02"])
    assert len(grid.trials) == 6
    assert len({t.trial_id for t in grid.trials}) == 6


def test_optimizer_group_axis_drops_hyperparameters_an_optimizer_lacks():
    grid = grid_of(named("default"), ["optimizer=sgd,momentum,adam"])
    by_name = {}
    for trial in grid.trials:
        by_name.setdefault(trial.config["optimizer"]["name"], []).append(trial)
    assert len(by_name["momentum"]) == 32
    assert len(by_name["sgd"]) == len(by_name["adam"]) == 8
    assert all("momentum" not in t.config["optimizer"] for t in by_name["adam"])


def test_ids_are_deterministic_and_follow_the_grid():
    cli = ["task=quadratic", "optimizer.lr=0.01,0.02"]
    first, again = grid_of({}, cli), grid_of({}, cli)
    assert [t.trial_id for t in first.trials] == [t.trial_id for t in again.trials]
    assert first.sweep_id == again.sweep_id
    assert grid_of({}, [*cli, "trainer.steps=7"]).sweep_id != first.sweep_id
    assert grid_of({}, ["task=quadratic", "optimizer.lr=0.01,0.03"]).sweep_id != first.sweep_id


@pytest.mark.parametrize(
    "cli, message",
    [
        (["optimizer.lr=0.1,0.1"], "optimizer.lr lists the value 0.1 twice"),
        (["optimizer.lr=range(0,0)"], "has no values"),
        (["optimizer.lr=interval(0,1)"], "can be swept on a grid"),
        (["optimizer.lr=0.1,abc"], "optimizer.lr=abc"),
        (["optimizer.lr=0.1,-1"], "lr must be a real number > 0"),
        (["optimizer.momentun=0.5"], "optimizer.momentun is not a config key"),
    ],
)
def test_bad_axes_are_refused_in_one_line(cli, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        grid_of({}, ["task=quadratic", *cli])


def test_session_keys_compose_the_session_and_the_rest_the_grid():
    with hydra_context() as loader:
        session, grid = compose_sweep(
            ["sweep=quadratic", "ray.num_cpus=3", "tracking.experiment=mine", "trainer.steps=7"],
            loader,
        )
    assert (session["ray"]["num_cpus"], session["tracking"]["experiment"]) == (3, "mine")
    assert session["sweep"]["name"] == "quadratic"
    assert set(grid.axes) == {"optimizer.lr", "optimizer.momentum"}
    assert {t.config["trainer"]["steps"] for t in grid.trials} == {7}


def test_a_session_key_cannot_be_a_grid_axis():
    with (
        hydra_context() as loader,
        pytest.raises(
            ConfigError,
            match="ray.num_cpus cannot be a grid axis; only optimizer, task and trainer settings",
        ),
    ):
        compose_sweep(["ray.num_cpus=1,2"], loader)


@pytest.mark.slow
def test_dry_run_prints_the_grid_and_starts_nothing(tmp_path):
    # Ray's temp directory of its own, where a Ray the dry run started would leave a session:
    # other Rays on this machine (another test's, in parallel) leave theirs in /tmp/ray.
    cwd, ray_tmp = tmp_path / "cwd", tmp_path / "ray-tmp"
    cwd.mkdir()
    ray_tmp.mkdir()
    args = ["sweep=quadratic", "sweep.dry_run=true"]
    done = run_script("sweep.py", *args, cwd=cwd, env={"RAY_TMPDIR": str(ray_tmp)}, check=True)
    assert done.stdout.startswith(
        "grid: 40 trials; axes: optimizer.lr (10) x optimizer.momentum (4)"
    )
    assert len([line for line in done.stdout.splitlines() if "optimizer.lr=" in line]) == 40
    assert list(cwd.iterdir()) == [] and list(ray_tmp.iterdir()) == []
