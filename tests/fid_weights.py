"""The random-weight FID file the tests use (no download, ever): see inception.make_random_weights."""
from dcgan.inception import make_random_weights as make_random_fid_weights  # noqa: F401
