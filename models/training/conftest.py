import os
import sys

# the recipes' tests import their modules by name: put each recipe folder (and common/) on the path
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, d) for d in ('common', 'completion', 'embed', 'common/tests')]
os.environ.setdefault('OMP_NUM_THREADS', '1')
