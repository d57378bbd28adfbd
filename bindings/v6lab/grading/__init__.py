"""Grading: steps of checks with points and hints, graded from outside the
nodes (netlink state and the core's own probes), with reports as text,
JSON, JUnit XML and TAP. See docs/grading.md.

    from v6lab.grading import Grader, Step, checks as c

    grader = Grader([
        Step("addr", "Give h1 an address", points=2,
             checks=[c.has_address("h1", "2001:db8:1::/64", iface="eth0")],
             hints=["Use ip -6 addr add ... dev eth0"]),
        Step("ping", "Reach h2", checks=[c.reachable("h1", "h2")]),
    ])
    report = grader.grade(lab)

Address plans (the YAML a trainee writes, its strict parser and checks,
reused by later labs) are `v6lab.grading.plan`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names are imported from their modules on first use (PEP 562), so that
# importing one light module (v6lab.grading.report, to read a report) does
# not load every check.
_WHERE = {"checks": ("library", None), "plan": ("plan", None),
          **{n: ("check", n) for n in ("Check", "CheckFailed", "CheckPending")},
          **{n: ("model", n) for n in ("Grader", "Step")},
          **{n: ("report", n) for n in ("CheckResult", "Report", "StepResult")}}

if TYPE_CHECKING:
    from . import library as checks
    from . import plan
    from .check import Check, CheckFailed, CheckPending
    from .model import Grader, Step
    from .report import CheckResult, Report, StepResult


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'v6lab.grading' has no attribute '{name}'")
    module, attr = _WHERE[name]
    mod = importlib.import_module(f".{module}", __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))

__all__ = ["Check", "CheckFailed", "CheckPending", "CheckResult", "Grader", "Report", "Step",
           "StepResult", "checks", "plan"]
