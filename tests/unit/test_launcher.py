"""./v6lab, the launcher every command of every trainee starts from: it
finds its checkout however it is reached, and never imports Python code from
the directory it is run in (a click.py that a trainee left in /tmp would
otherwise run as root when an instructor types `v6lab class status` there)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "v6lab"

if not (ROOT / "bindings" / "v6lab" / "libexec" / "v6lab-init").exists() or not list(
        (ROOT / "bindings" / "v6lab").glob("_core*.so")):
    # Unbuilt, the launcher would run scripts/setup: not a unit test's business.
    pytestmark = pytest.mark.skip(reason="v6lab is not built here (./scripts/setup)")


def run(argv: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    """argv with a state directory and a home of the test's own (nothing
    left in /tmp/v6lab-UID or the caller's home)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONSAFEPATH", "V6LAB_PROGRESS", "XDG_RUNTIME_DIR")}
    env.update(V6LAB_CLASS="off", V6LAB_LANG="en", V6LAB_STATE_DIR=str(home / "state"),
               HOME=str(home))
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_modules_in_the_current_directory_are_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for name in ("click", "json", "rich", "v6lab", "_json", "gettext"):
        (cwd / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    for argv in (["--version"], ["check", "--lab", "x"], ["labs"]):
        r = run([str(LAUNCHER), *argv], cwd, tmp_path)
        assert "Traceback" not in r.stderr, r.stderr
    assert run([str(LAUNCHER), "--version"], cwd, tmp_path).stdout.startswith("v6lab, version")
    assert not marker.exists(), f"imported from the current directory: {marker.read_text()}"


def test_it_finds_its_checkout_through_a_symlink_and_a_relative_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "v6lab").symlink_to(LAUNCHER)
    for argv, cwd in (([str(bin_dir / "v6lab"), "--version"], tmp_path),
                      (["bin/v6lab", "--version"], tmp_path),
                      (["./v6lab", "--version"], ROOT)):
        r = run(argv, cwd, tmp_path)
        assert r.returncode == 0 and r.stdout.startswith("v6lab, version"), (argv, r.stderr)
