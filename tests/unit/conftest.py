"""The fast tier: grading logic, reports, progress, lab loading, spec
parsing, records and codecs, with v6lab.testing.FakeLab instead of a
kernel. Nothing here needs root, a namespace or a daemon, and nothing
here may build a lab: the fixture below makes any attempt fail at once
with a message that says so (test_unprivileged.py proves the whole tier
passes as nobody)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bindings") not in sys.path:
    sys.path.insert(0, str(ROOT / "bindings"))

from v6lab import _core, lab as lab_module, userns  # noqa: E402

# Tests assert English messages: a tester's own locale (LANG=vi_VN.UTF-8)
# must not change them. The Vietnamese runs set the language themselves.
os.environ["V6LAB_LANG"] = "en"

# Who runs the tier, read before any test could change it.
EUID = os.geteuid()
INITIAL_USERNS = userns.in_initial_userns()


def pytest_report_header(config: Any) -> str:
    who = "root" if EUID == 0 else f"uid {EUID} (not root)"
    where = "" if INITIAL_USERNS else ", inside a user namespace"
    return f"v6lab unit tier: running as {who}{where}"


class KernelNeeded(AssertionError):
    """A unit test reached for the kernel."""


def _refuse(what: str):
    def refuse(*args: Any, **kw: Any) -> Any:
        raise KernelNeeded(f"a unit test called {what}, which needs a kernel (and root or a "
                           "user namespace): use v6lab.testing.FakeLab, or move the test to "
                           "tests/python")
    return refuse


@pytest.fixture(autouse=True)
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever builds or reaches a real lab fails clearly, even as root
    (where it would otherwise work and hide that the test needs root)."""
    monkeypatch.setattr(lab_module.Lab, "start", _refuse("Lab.start()"))
    monkeypatch.setattr(lab_module.Lab, "attach", classmethod(_refuse("Lab.attach()")))
    monkeypatch.setattr(lab_module.RunningLab, "find", classmethod(_refuse("RunningLab.find()")))
    monkeypatch.setattr(_core, "Lab", _refuse("v6lab._core.Lab()"))
    monkeypatch.setattr(_core, "WireTap", _refuse("v6lab._core.WireTap()"))
    monkeypatch.setattr(userns, "enter", _refuse("v6lab.userns.enter()"))
    monkeypatch.setattr(lab_module.Node, "cmd", _refuse("Node.cmd()"))
    monkeypatch.setattr(lab_module.Node, "popen", _refuse("Node.popen()"))
    yield


@pytest.fixture(autouse=True)
def no_lab_modules_left() -> Iterator[None]:
    """Lab folders load as packages v6lab_labs.<folder>: forget them after
    each test, so that two tests' folders of one name do not share modules."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name == "v6lab_labs" or name.startswith("v6lab_labs."):
            del sys.modules[name]
