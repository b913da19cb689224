"""Ray's setup before it is imported: which cluster (ray.address or RAY_ADDRESS), and loopback."""

import os
import sys

# Ray reads this once, when first imported: "0" makes it take 127.0.0.1 as this node's address,
# so every server a local Ray starts (GCS, raylets, workers) binds the loopback interface only.
LOOPBACK_RAY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
LOOPBACK = "127.0.0.1"
# Ray's own variable: `ray.init()` attaches to it. The sweep treats it as ray.address, so the
# project's code is shipped to that cluster as it is for ray.address=.
RAY_ADDRESS = "RAY_ADDRESS"
RAY_AUTH_MODE = "RAY_AUTH_MODE"  # unset, disabled or token; read when ray is imported


def ray_address(configured: str) -> str:
    """The cluster to attach to: ray.address, else RAY_ADDRESS, else '' (start a local Ray)."""
    return configured or os.environ.get(RAY_ADDRESS, "").strip()


def address_key(address: str) -> str:
    """Where `address` came from, named as the user set it: ray.address or RAY_ADDRESS."""
    return RAY_ADDRESS if os.environ.get(RAY_ADDRESS, "").strip() == address else "ray.address"


def keep_local_ray_on_loopback(address: str) -> None:
    """A Ray the sweep starts itself serves this machine alone, and asks for a token; call
    before importing ray."""
    if not address:
        os.environ.setdefault(LOOPBACK_RAY, "0")
        # Ray's own default for a cluster ray.init() starts, said explicitly (a user's choice is
        # kept): token authentication on, without the warning Ray prints when it decides alone.
        # Only before Ray's import, which reads it once: a process that imported Ray already
        # (a notebook, a test) keeps Ray's own way of turning it on.
        if "ray" not in sys.modules:
            os.environ.setdefault(RAY_AUTH_MODE, "token")
