"""The fast tier needs no root: proved on every run. Run unprivileged, this
test checks that the process really has no privilege, so that every other
test passing is the proof. Run as root, it runs the whole tier again as
nobody (setpriv), and fails with that run's output if anything there
fails: a test that quietly needed root fails here, by name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from v6lab import userns

NOBODY = 65534
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# Read when the module is imported, before any test runs.
EUID = os.geteuid()
INITIAL_USERNS = userns.in_initial_userns()


def capabilities() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    raise AssertionError("no CapEff in /proc/self/status")


def as_nobody(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           "--inh-caps=-all", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/",
                                            "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"})


def readable_copy(tmp: Path) -> Path:
    """The parts of the checkout the tier reads, copied where nobody can
    read them (a checkout under /root is not)."""
    out = tmp / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("bindings/v6lab", "tests/unit", "images", "labs", "examples"):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, out / part, symlinks=True, ignore=ignore)
    for d, _, files in os.walk(tmp):
        os.chmod(d, 0o755)
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                os.chmod(p, 0o644 | (os.stat(p).st_mode & 0o111))
    return out


def test_the_tier_passes_without_root():
    if not INITIAL_USERNS:
        pytest.skip("run inside a user namespace (tests/conftest.py enters one for the slow "
                    "tiers): run `pytest tests/unit` alone to prove the tier needs no root")
    if EUID != 0:
        # This very run is the proof: no root, and no capability at all.
        assert os.geteuid() != 0 and capabilities() == 0
        return
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is needed to run the tier as nobody")
    tmp = Path(tempfile.mkdtemp(prefix="v6lab-unit-"))
    try:
        os.chmod(tmp, 0o755)
        tree = ROOT
        if as_nobody("test", "-r", str(HERE / "conftest.py"), cwd=Path("/")).returncode != 0:
            tree = readable_copy(tmp)
        base = tmp / "basetemp"
        base.mkdir()
        os.chown(base, NOBODY, NOBODY)
        r = as_nobody(sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                      f"--basetemp={base / 'run'}", "tests/unit", cwd=tree)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert r.returncode == 0, (
        f"the unit tier fails as nobody (uid {NOBODY}): a test needs root or a kernel\n"
        + r.stdout[-6000:] + r.stderr[-2000:])
    assert " passed" in r.stdout and "v6lab unit tier: running as uid 65534" in r.stdout
