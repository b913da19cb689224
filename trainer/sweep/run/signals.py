"""How a sweep stops: a first Ctrl-C once what is in hand is logged, a second or SIGTERM at once."""

import signal


class Interrupt:
    """The first Ctrl-C asks the sweep to stop training (the results in hand are still logged);
    a second forces it."""

    def __enter__(self):
        self.requested = False
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, *_):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *_):
        signal.signal(signal.SIGINT, self.previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM: the sweep stops as after a second Ctrl-C, its parent marked KILLED."""

    # Set when SIGTERM arrives: Ray may hand the exception on as a plain KeyboardInterrupt.
    received = False


def terminate(*_):
    """The SIGTERM handler a sweep installs once Ray has started."""
    Terminated.received = True
    raise Terminated
