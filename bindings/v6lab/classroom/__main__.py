"""python3 -m v6lab.classroom: the classroom service (see service.py)."""

import sys

from .service import main

sys.exit(main())
