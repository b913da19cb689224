"""The one error a user's mistake raises: reported as one line, exit code 2, nothing started."""


class ConfigError(Exception):
    """A mistake in what the user asked for: reported as one line, exit code 2, nothing started."""
