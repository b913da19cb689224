"""A search driven in this process, without Ray or a store: the loop's protocol, one trial at a
time. For a notebook or a benchmark that compares searches by the trials they need."""

from collections.abc import Callable

from trainer.sweep.plan.search import Search
from trainer.sweep.record.rows import Row
from trainer.training.result import Result
from trainer.training.trial import run_trial


def drive_in_process(search: Search, on_result: Callable[[Result], None] | None = None):
    """Propose, train, tell until the search is done; the rows the sweep would record (a
    provisional trial's once the search says it stopped). `on_result` sees every result
    trained, in order, provisional ones included."""
    rows, held = [], {}
    while batch := search.propose(1):
        for proposal in batch:
            earlier = held.pop(proposal.resume, None)
            result = run_trial(
                proposal.trial.config,
                proposal.trial_id,
                resume=earlier[0].checkpoint if earlier is not None else None,
                keep=proposal.provisional,
            )
            if on_result is not None:
                on_result(result)
            row = Row.from_result(result, proposal.name)
            if proposal.provisional:
                held[proposal.trial_id] = (result, proposal.name)
            else:
                rows.append(row)
            search.tell(proposal, row, trained=True)
            for trial_id in search.stopped():
                stopped, name = held.pop(trial_id)
                rows.append(Row.from_result(stopped, name))
    return rows
