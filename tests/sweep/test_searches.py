"""Every registered search behind the one `Search` interface, driven here as the sweep's loop
drives it (propose, tell each trial's real result, end the round) but in this process."""

import time

import pytest

from trainer import contract
from trainer.config.compose import hydra_context
from trainer.config.errors import ConfigError
from trainer.sweep.context import SweepContext
from trainer.sweep.plan.compose import compose_sweep
from trainer.sweep.plan.search import Search
from trainer.sweep.plan.searches.registry import SEARCHES, search_named
from trainer.sweep.record.rows import Row
from trainer.training.trial import run_trial

# A small sweep for each search, quick to train in this process.
COMMAND_LINES = {
    "grid": ["sweep=quadratic", "optimizer.lr=0.01,0.1,30", "optimizer.momentum=0,0.9"],
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


def context_for(search: str) -> SweepContext:
    with hydra_context() as loader:
        session, grid = compose_sweep(COMMAND_LINES[search], loader)
    assert session["sweep"]["search"] == search
    return SweepContext(session, grid, None, time.perf_counter(), cpus=2)


def drive(search: Search) -> tuple[list[list[str]], list[Row]]:
    """The loop's protocol without Ray or a store: every proposal trained here and told."""
    batches, rows = [], []
    while batch := search.propose(2):
        batches.append([proposal.trial_id for proposal in batch])
        for proposal in batch:
            result = run_trial(proposal.trial.config, proposal.trial_id)
            row = Row.from_result(result, proposal.name)
            rows.append(row)
            search.tell(proposal, row, trained=True)
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
    allowed = r"sweep.search=annealing is not allowed: choose one of grid, boundary$"
    with pytest.raises(ConfigError, match=allowed):
        search_named("annealing")
