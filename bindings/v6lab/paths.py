"""Where v6lab finds its helpers and images and keeps its records.

Kept in one place so that an installed copy and a source checkout behave the
same, and so tests can point the state directory elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

from .i18n import _

PACKAGE_DIR = Path(__file__).resolve().parent
LIBEXEC_DIR = PACKAGE_DIR / "libexec"
INIT = LIBEXEC_DIR / "v6lab-init"
NSEXEC = LIBEXEC_DIR / "v6lab-nsexec"


def images_path(extra: Sequence[Union[str, Path]] = ()) -> list[Path]:
    """The image search path, in order: the project's images, then each
    directory of $V6LAB_IMAGES (colon-separated), then `extra` (a lab's own
    images), then the user's ~/.config/v6lab/images if it exists. A later
    directory's image replaces an earlier one's of that name; none replaces
    the path as a whole (so a lab's images never hide the curriculum's)."""
    path = [default_images_dir()]
    env = os.environ.get("V6LAB_IMAGES")
    if env:
        path += [Path(p).resolve() for p in env.split(":") if p]
    path += [Path(p).resolve() for p in extra]
    user = Path.home() / ".config" / "v6lab" / "images"
    if user.is_dir():
        path.append(user)
    out: list[Path] = []
    for p in path:
        if p not in out:
            out.append(p)
    return out


def default_images_dir() -> Path:
    """The project's images: the checkout's images/, or the installed share
    directory."""
    checkout = PACKAGE_DIR.parent.parent / "images"
    if checkout.is_dir():
        return checkout
    return Path("/usr/share/v6lab/images")


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


def state_dir() -> Path:
    """Where this user's lab records live: $V6LAB_STATE_DIR; for root
    /run/v6lab; for anyone else $XDG_RUNTIME_DIR/v6lab, or /tmp/v6lab-UID
    (private, checked). All are tmpfs on Debian, so records never outlive a
    reboot, and no node can see them: every node has its own root."""
    env = os.environ.get("V6LAB_STATE_DIR")
    if env:
        return Path(env)
    from .userns import host_uid  # the host user, also inside a user namespace
    uid = host_uid()
    if uid == 0:
        return Path("/run/v6lab")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return Path(runtime) / "v6lab"
    return _private_tmp(Path(f"/tmp/v6lab-{uid}"))


def _private_tmp(path: Path) -> Path:
    """/tmp is shared: the directory must be ours, a real directory and
    closed to others, or someone could read or plant records in it."""
    import stat
    from ._core import Error
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise Error(_("{path} is not a private directory of this user: remove it, or set "
                      "V6LAB_STATE_DIR or XDG_RUNTIME_DIR").format(path=path))
    return path


def labs_dir() -> Path:
    """Root of lab records (see state_dir)."""
    return state_dir() / "labs"


def state_dir_problem() -> str:
    """One sentence if lab records cannot be kept under V6LAB_STATE_DIR (it
    is a file, or cannot be created or written), else "". Checked before a
    command starts, so that it fails with that sentence, not mid-way."""
    from ._core import Error
    try:
        base = state_dir()
    except Error as e:
        return str(e)
    where = f"V6LAB_STATE_DIR={base}" if "V6LAB_STATE_DIR" in os.environ else str(base)
    probe = base
    while not probe.exists():  # the nearest existing ancestor decides
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        # TRANSLATORS: {where} is V6LAB_STATE_DIR=PATH or PATH; {path} the part that is wrong.
        return _("{where}: {path} is not a directory, so lab records cannot be kept there").format(
            where=where, path=probe)
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        return _("{where}: {path} is not writable, so lab records cannot be kept there").format(
            where=where, path=probe)
    return ""
