"""The random-weight FID file the tests use (no download, ever): see inception.make_random_weights."""
from dcgan.inception import make_random_weights as make_random_fid_weights  # noqa: F401


def random_protocol(protocol: str) -> str:
    """A protocol name made with the random test weights, less the suffix that says so (which it must have)."""
    head, sep, tail = protocol.rpartition("_weights-")
    assert sep and len(tail) == 8, f"{protocol!r} does not name its non-standard weights"
    return head
