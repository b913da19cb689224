"""Every registered search behind the one `Search` interface, driven here as the sweep's loop
drives it (propose, tell each trial's real result, end the round) but in this process."""

import copy
import functools
import time

import numpy as np
import pytest

from trainer import contract
from trainer.config.compose import hydra_context
from trainer.config.errors import ConfigError
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.compose import compose_sweep
from trainer.sweep.plan.search import Search
from trainer.sweep.plan.searches.registry import SEARCHES, search_named
from trainer.sweep.record.no_store import NoStore
from trainer.sweep.record.rows import Row
from trainer.training.trial import run_trial

# A small sweep for each search, quick to train in this process.
SPACE = [
    "task=quadratic",
    "optimizer=momentum",
    "optimizer.lr=tag(log, interval(1e-3, 1))",
    "optimizer.momentum=interval(0, 0.95)",
    "trainer.steps=50",
    "sweep.n_trials=12",
]
COMMAND_LINES = {
    "grid": ["sweep=quadratic", "optimizer.lr=0.01,0.1,30", "optimizer.momentum=0,0.9"],
    "random": [*SPACE, "sweep.search=random"],
    "sobol": [*SPACE, "sweep.search=sobol"],
    "tpe": [*SPACE, "sweep.search=tpe"],
    "halving": [*SPACE, "sweep.search=halving", "sweep.halving.eta=2", "trainer.steps=80"],
    "lr_range": [
        "sweep.search=lr_range",
        "task=quadratic",
        "optimizer=momentum",
        "optimizer.momentum=0,0.9",
        "trainer.steps=300",
    ],
    "boundary": [
        "sweep=boundary",
        "optimizer=momentum",
        "optimizer.momentum=0,0.9",
        "trainer.steps=300",
        "sweep.boundary.rtol=0.1",
    ],
}


def test_every_registered_search_is_tested_here():
    assert set(COMMAND_LINES) == set(SEARCHES)


@functools.cache
def composed(command_line: tuple[str, ...]) -> tuple:
    """The session and grid of a command line, composed once in this process."""
    with hydra_context() as loader:
        return compose_sweep(list(command_line), loader)


def context_for(search: str, *extra: str) -> SweepContext:
    """A fresh context for `search`: its own copy of the command line's composition."""
    session, grid = copy.deepcopy(composed((*COMMAND_LINES[search], *extra)))
    assert session["sweep"]["search"] == search
    # A store's URI, so the search draws its parent's summary; nothing is written to it.
    uri = "sqlite:///never-opened.db"
    context = SweepContext(session, grid, uri, time.perf_counter(), cpus=2)
    context.store = NoStore()
    return context


def drive(search: Search) -> tuple[list[list[str]], list[Row]]:
    """The loop's protocol without Ray or a store: every proposal trained here and told, the
    rows those the loop would record (a provisional one once the search says it stopped)."""
    batches, rows, held = [], [], {}
    while batch := search.propose(2):
        batches.append([proposal.trial_id for proposal in batch])
        for proposal in batch:
            earlier = held.pop(proposal.resume, None)
            result = run_trial(
                proposal.trial.config,
                proposal.trial_id,
                resume=earlier.checkpoint if earlier else None,
                keep=proposal.provisional,
            )
            row = Row.from_result(result, proposal.name)
            if proposal.provisional:
                held[proposal.trial_id] = result
            search.tell(proposal, row, trained=True)
            rows += [row] if not proposal.provisional else []
            stopped = search.stopped()
            rows += [Row.from_result(held.pop(t), t) for t in stopped]
    return batches, rows


@pytest.mark.parametrize("name", sorted(COMMAND_LINES))
def test_a_search_proposes_until_done_and_summarises_what_it_found(name):
    context = context_for(name)
    search = search_named(name)(context)
    assert isinstance(search, Search) and search.name == name
    batches, rows = drive(search)
    assert batches and search.propose(2) == []
    for batch in batches:
        assert len(set(batch)) == len(batch)  # never the same trial twice in one batch
    assert search.unfinished() is None
    text, summary = search.summarise(rows, elapsed=1.0)
    assert text and summary.files[contract.SUMMARY_FILE] == text.encode()
    assert set(summary.pictures) <= set(summary.files) | {contract.LOSS_CURVES_FILE}
    assert all(isinstance(value, float | int) for value in summary.metrics.values())
    # tracking=none: the same text printed, and nothing drawn for a parent run there is not.
    context.uri = None
    unrecorded, nothing = search.summarise(rows, elapsed=1.0)
    assert unrecorded == text and not nothing.files and not nothing.metrics


@pytest.mark.parametrize("name", sorted(COMMAND_LINES))
def test_the_same_results_give_the_same_proposals_so_a_rerun_retraces_the_search(name):
    first, _ = drive(search_named(name)(context_for(name)))
    second, _ = drive(search_named(name)(context_for(name)))
    assert first == second


def test_the_grid_proposes_every_trial_once_in_one_round():
    context = context_for("grid")
    search = search_named("grid")(context)
    [batch] = drive(search)[0]
    assert batch == [trial.trial_id for trial in context.grid.trials]
    assert len(batch) == 6


def test_the_boundary_search_finds_each_points_critical_learning_rate_in_rounds():
    context = context_for("boundary")
    search = search_named("boundary")(context)
    batches, rows = drive(search)
    assert len(batches) > 2
    assert {row.outcome for row in rows} >= {"converged", "diverged"}
    text, summary = search.summarise(rows, elapsed=1.0)
    assert summary.metrics["points_found"] == len(context.grid.trials) == 2
    assert contract.BOUNDARY_FILE in summary.files and "lr*" in text


def test_an_unknown_search_is_one_line_naming_those_there_are():
    allowed = r"sweep.search=annealing is not allowed: choose one of grid, boundary, random, "
    with pytest.raises(ConfigError, match=allowed):
        search_named("annealing")


@pytest.mark.parametrize("name", ["random", "sobol", "tpe"])
def test_a_sampling_search_keeps_every_value_within_its_range_and_spreads_a_log_range(name):
    context = context_for(name)
    search = search_named(name)(context)
    _, rows = drive(search)
    assert len(rows) == 12
    lrs = [float(row.params["optimizer.lr"]) for row in rows]
    momenta = [float(row.params["optimizer.momentum"]) for row in rows]
    assert all(1e-3 <= lr <= 1 for lr in lrs) and all(0 <= m <= 0.95 for m in momenta)
    decades = {int(np.floor(np.log10(lr))) for lr in lrs}
    assert len(decades) >= 2


@pytest.mark.parametrize("name", ["random", "sobol"])
def test_another_seed_draws_other_trials(name):
    first = [t.trial_id for t in context_for(name).grid.trials]
    other = [t.trial_id for t in context_for(name, "sweep.seed=1").grid.trials]
    assert len(first) == 12 and set(first).isdisjoint(other)


def test_tpe_tells_a_diverged_trial_as_infeasible_and_never_as_nan():
    import optuna

    search = search_named("tpe")(context_for("tpe"))
    _, rows = drive(search)
    diverged = [row for row in rows if row.outcome == "diverged"]
    assert diverged, "the space reaches lr = 1, where momentum diverges on the quadratic"
    trials = search.study.trials
    assert len(trials) == 12
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert all(np.isfinite(t.value) for t in trials)
    infeasible = [t for t in trials if t.constraints.get("diverged", 0) > 0]
    assert len(infeasible) == len(diverged)


def test_tpe_adds_the_trials_an_earlier_run_finished_and_asks_only_for_the_rest():
    first = search_named("tpe")(context_for("tpe"))
    first.budget = 6
    _, rows = drive(first)
    context = context_for("tpe")
    context.store.finished = {row.trial_id: row for row in rows}
    again = search_named("tpe")(context)
    assert len(again.study.trials) == 6
    assert len(again.propose(100)) == 12 - 6


def test_a_continuous_range_on_a_grid_names_the_searches_that_sample_it():
    with hydra_context() as loader, pytest.raises(ConfigError) as refused:
        compose_sweep(["task=quadratic", "optimizer.lr=tag(log, interval(1e-3, 1))"], loader)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("optimizer.lr=tag(log, interval(1e-3, 1)):")
    for name in ("random", "sobol", "tpe"):
        assert f"sweep.search={name}" in message


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("optimizer.lr=tag(log, interval(0, 1))", "a log interval needs low > 0"),
        ("optimizer.lr=interval(1, 0.1)", "needs low < high"),
        ("optimizer.lr=tag(cubic, interval(0.1, 1))", "tag cubic is not allowed: use log or int"),
    ],
)
def test_a_range_that_cannot_be_sampled_is_one_line_naming_it(override, says):
    with hydra_context() as loader, pytest.raises(ConfigError, match=says):
        compose_sweep(["task=quadratic", "sweep.search=random", override], loader)


def test_halving_records_each_configuration_once_in_rungs_and_trains_its_winner_exactly():
    from trainer.training.loop import train

    context = context_for("halving")
    search = search_named("halving")(context)
    assert search.steps == [10, 20, 40, 80]
    batches, rows = drive(search)
    sizes = [len(batch) for batch in batches]
    assert len(sizes) == 4 and sizes[0] == 12
    # At most the best half of each rung goes on (fewer where trials diverged).
    pairs = zip(sizes, sizes[1:], strict=False)
    assert all(0 < later <= -(-earlier // 2) for earlier, later in pairs)
    assert len(rows) == 12 and len({tuple(sorted(r.params.items())) for r in rows}) == 12
    trained = [int(row.params["trainer.steps"]) for row in rows]
    assert set(trained) <= {10, 20, 40, 80} and trained.count(80) == sizes[-1]
    # Every step trained once: a survivor goes on from where its rung stopped.
    assert sum(len(row.curve) for row in rows) <= 12 * 80 / 2
    ranking = search.ranking
    winner = min(
        (r for r in rows if r.params["trainer.steps"] == "80"),
        key=lambda r: r.final[ranking.metric],
    )
    [trial] = [
        t
        for t in context.grid.trials
        if t.config["optimizer"]["lr"] == float(winner.params["optimizer.lr"])
    ]
    fresh = train(trial.config)
    assert winner.final[ranking.metric] == pytest.approx(fresh.final[ranking.metric], rel=1e-12)
    np.testing.assert_array_equal(winner.curve, fresh.train_loss)


def test_the_range_test_suggests_a_rate_below_where_theory_says_the_quadratic_diverges():
    context = context_for("lr_range")
    search = search_named("lr_range")(context)
    _, rows = drive(search)
    text, summary = search.summarise(rows, elapsed=1.0)
    suggested = {k: v for k, v in summary.metrics.items() if k.startswith("lr_suggested/")}
    assert len(suggested) == 2 and contract.LR_RANGE_FILE in summary.files
    for trial in context.grid.trials:
        momentum, task = trial.config["optimizer"]["momentum"], trial.config["task"]
        # Heavy-ball momentum on the bowl: stable iff lr < 2 (1 + m) / lambda_max.
        limit = 2 * (1 + momentum) / (task["a"] * task["condition"])
        [value] = [v for k, v in suggested.items() if k.endswith(f"m:{momentum:g}")]
        assert 0 < value < limit
    assert "suggested" in text
