"""A block that a Ctrl-C or SIGTERM does not cut in two: the signal acts as the block ends.

A sweep's driver talks to its store process over a pipe, a message each way per call. A Ctrl-C
that raised KeyboardInterrupt halfway through writing a message, or between reading an answer
and noting it read, would leave the two ends out of step: the next call (the parent run's
abort) would wait forever for an answer that is never coming. Such steps run `uninterrupted()`;
the waits between them stay interruptible.
"""

import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def uninterrupted():
    """Hold SIGINT and SIGTERM for the block; each that came is then handled, in order, by the
    handler in place before, as if it came just then (two Ctrl-Cs are still two). Only the
    main thread receives Python's signals: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {}
    for number in SIGNALS:
        handler = signal.getsignal(number)
        if handler is None:  # installed outside Python: left as it is
            continue
        previous[number] = handler
        signal.signal(number, lambda received, _frame: held.append(received))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in held:
            deliver(number, previous[number])


def deliver(number: int, handler) -> None:
    """What `number` arriving now would do with `handler` in place."""
    if callable(handler):
        handler(number, None)  # KeyboardInterrupt, say: raised here, at the block's end
    elif handler == signal.SIG_DFL:
        signal.raise_signal(number)  # the default action: ends the process
