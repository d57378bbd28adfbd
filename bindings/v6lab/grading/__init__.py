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

from . import library as checks
from . import plan
from .check import Check, CheckFailed, CheckPending
from .model import Grader, Step
from .report import CheckResult, Report, StepResult

__all__ = ["Check", "CheckFailed", "CheckPending", "CheckResult", "Grader", "Report", "Step",
           "StepResult", "checks", "plan"]
