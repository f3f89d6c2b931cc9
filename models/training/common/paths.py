"""Where the recipes find things. Every recipe script puts this folder (common/) on sys.path first.

WORK holds the large intermediates (package cache, corpus, token files, work/embed): by default
models/training/work (git-ignored); KESTREL_WORK moves it, e.g. under ~/.cache so that it outlives
the checkout.
"""
import os

COMMON = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(COMMON)  # models/training: relative paths in configs are taken from here
MODELS = os.path.dirname(TRAINING)  # models/: the shipped model folders
REPO = os.path.dirname(MODELS)
WORK = os.path.abspath(os.environ.get('KESTREL_WORK') or os.path.join(TRAINING, 'work'))


def from_training(path):
    """A path as given on a command line or in a config: absolute, or relative to models/training."""
    return path if os.path.isabs(path) else os.path.join(TRAINING, path)
