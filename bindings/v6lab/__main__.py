"""python -m v6lab, and ./v6lab (which imports this module with python3 -c,
for speed): the command line.

A trainee's `v6lab check` in a class goes by v6lab.classroom.quick, which
sends the request without loading the rest of v6lab; everything else, and
anything that path is not sure of, is the full command line (v6lab.cli).
"""

import sys

from .classroom import quick

code = quick.main(sys.argv[1:])
if code is None:
    from .cli import run
    code = run()
sys.exit(code)
