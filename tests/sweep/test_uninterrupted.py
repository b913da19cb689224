"""A Ctrl-C or SIGTERM inside an uninterrupted block acts as the block ends, as many times as
it came, through the handler that was in place; outside one, at once."""

import os
import signal

import pytest

from trainer.sweep.uninterrupted import uninterrupted


def press(number: int = signal.SIGINT) -> None:
    os.kill(os.getpid(), number)


def test_a_ctrl_c_inside_the_block_is_raised_once_the_block_is_done():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with uninterrupted():
            press()
            done.append("the rest of the block")
    assert done == ["the rest of the block"]


def test_each_signal_is_handled_in_order_by_the_handler_in_place_before():
    seen = []
    before = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda received, _frame: seen.append(received))
        with uninterrupted():
            press(signal.SIGINT)
            press(signal.SIGTERM)
            press(signal.SIGINT)
            assert seen == []
        assert seen == [signal.SIGINT, signal.SIGTERM, signal.SIGINT]
        press()
        assert seen[-1] == signal.SIGINT  # the handlers are back: a Ctrl-C now acts at once
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def test_an_error_in_the_block_still_restores_the_handlers():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(ValueError):
        with uninterrupted():
            raise ValueError("the block's own error")
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_it_holds_nothing():
    from concurrent.futures import ThreadPoolExecutor

    def inside() -> object:
        with uninterrupted():
            return signal.getsignal(signal.SIGINT)

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(inside).result() is signal.getsignal(signal.SIGINT)
