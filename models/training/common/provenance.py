"""What every model card records about how a model was made: the code version and file digests."""
import hashlib
import subprocess

from paths import TRAINING


def git(*args):
    try:
        return subprocess.run(['git', *args], cwd=TRAINING, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout
        return None


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()
