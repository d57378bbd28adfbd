"""Where v6lab finds its helpers and images and keeps its records.

Kept in one place so that an installed copy and a source checkout behave the
same, and so tests can point the state directory elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
LIBEXEC_DIR = PACKAGE_DIR / "libexec"
INIT = LIBEXEC_DIR / "v6lab-init"
NSEXEC = LIBEXEC_DIR / "v6lab-nsexec"


def images_dir() -> Path:
    """The image directory: $V6LAB_IMAGES, the checkout's images/, or the
    installed share directory."""
    env = os.environ.get("V6LAB_IMAGES")
    if env:
        return Path(env)
    checkout = PACKAGE_DIR.parent.parent / "images"
    if checkout.is_dir():
        return checkout
    return Path("/usr/share/v6lab/images")


def labs_dir() -> Path:
    """Root of lab records ($V6LAB_STATE_DIR, default /run/v6lab). /run is
    a tmpfs, so records never outlive a reboot, and node processes cannot see
    it: every node has its own /run."""
    return Path(os.environ.get("V6LAB_STATE_DIR", "/run/v6lab")) / "labs"
