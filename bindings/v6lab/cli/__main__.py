"""`python -m v6lab.cli`: the same command as `python -m v6lab`."""

import sys

from . import run

sys.exit(run())
