"""How many results the driver sends its store in one call: few calls, yet a prompt Ctrl-C."""

import time
from collections.abc import Iterator

# One call to the store takes about this long at most: a Ctrl-C and the progress bar answer
# within it, while a fast store (sqlite: tens of ms a run) still gets many results per call.
CALL_SECONDS = 0.25
MOST_PER_CALL = 64


class Batcher:
    """Cuts the results in hand into slices the store logs in about CALL_SECONDS each, from
    its speed on the last slice; the first slice is a single result."""

    def __init__(self, seconds: float = CALL_SECONDS, most: int = MOST_PER_CALL):
        self.seconds, self.most, self.size = seconds, most, 1

    def slices(self, results: list) -> Iterator[list]:
        while results:
            some, results = results[: self.size], results[self.size :]
            started = time.perf_counter()
            yield some  # the caller logs the slice before asking for the next one
            per_result = max(time.perf_counter() - started, 1e-6) / len(some)
            self.size = max(1, min(self.most, int(self.seconds / per_result)))
