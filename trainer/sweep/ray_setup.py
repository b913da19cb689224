"""Ray's setup before it is imported: a Ray the sweep starts itself listens on loopback only."""

import os

# Ray reads this once, when first imported: "0" makes it take 127.0.0.1 as this node's address,
# so every server a local Ray starts (GCS, raylets, workers) binds the loopback interface only.
LOOPBACK_RAY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def keep_local_ray_on_loopback(address: str) -> None:
    """A Ray the sweep starts itself serves this machine alone; call before importing ray."""
    if not address:
        os.environ.setdefault(LOOPBACK_RAY, "0")
