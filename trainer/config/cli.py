"""Shared entry-point wiring: a user's mistake becomes one line on stderr and exit code 2."""

import gc
import sys
from collections.abc import Callable

from trainer.config.errors import ConfigError
from trainer.config.redact import mask_uri


def run(main: Callable[[list[str]], int | None], usage: str | Callable[[], str]) -> None:
    """Run `main` on the command line's arguments; `--help` prints the usage instead (a
    callable usage is generated then, e.g. from the config repository)."""
    args = sys.argv[1:]
    try:
        if any(arg in ("-h", "--help") for arg in args):
            print(usage() if callable(usage) else usage)
            code = 0
        else:
            code = main(args)
    except ConfigError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as command-line tools do.
        sys.stderr.close()
        sys.exit(0)
    finally:
        # Everything is written and flushed. Leave the cyclic garbage collector out of the
        # interpreter's teardown: with Ray, MLflow and Hydra loaded, its last pass over every
        # object takes seconds.
        gc.freeze()
    sys.exit(code or 0)


def one_line(message: str) -> str:
    """A message as the single line a user's mistake gets, with any URI's credentials masked."""
    return mask_uri(" ".join(line.strip() for line in message.splitlines() if line.strip()))
