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


def state_dir_problem() -> str:
    """One sentence if lab records cannot be kept under V6LAB_STATE_DIR (it
    is a file, or cannot be created or written), else "". Checked before a
    command starts, so that it fails with that sentence, not mid-way."""
    base = Path(os.environ.get("V6LAB_STATE_DIR", "/run/v6lab"))
    where = f"V6LAB_STATE_DIR={base}" if "V6LAB_STATE_DIR" in os.environ else str(base)
    probe = base
    while not probe.exists():  # the nearest existing ancestor decides
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{where}: {probe} is not a directory, so lab records cannot be kept there"
    if os.geteuid() == 0 and probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        return f"{where}: {probe} is not writable, so lab records cannot be kept there"
    return ""
