"""Steps and the grader that runs them."""

from __future__ import annotations

import datetime
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Sequence

from ..i18n import _
from .check import Check
from .report import CheckResult, Report, StepResult

if TYPE_CHECKING:
    from ..lab import Lab


@dataclass
class Step:
    """An ordered unit of a lab: checks, points, hints.

    gated: graded only once every earlier gated step passes (otherwise
    reported as skipped, so a trainee sees one thing to do at a time).
    partial: points in proportion to the weight of the checks that pass;
    otherwise all or nothing.
    """

    id: str
    title: str
    checks: Sequence[Check]
    points: float = 1.0
    hints: Sequence[str] = ()
    gated: bool = True
    partial: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not self.checks:
            raise ValueError(f"step {self.id} has no checks: it could not fail")
        bad = [c.description for c in self.checks if not c.weight > 0]
        if bad:
            raise ValueError(f"step {self.id}: check weights must be positive ({', '.join(bad)})")
        # Copies: one Check object may serve in several steps.
        self.checks = [c.with_options(id=c.id or f"{self.id}.{i + 1}")
                       for i, c in enumerate(self.checks)]


@dataclass
class Grader:
    steps: Sequence[Step]
    max_workers: int = 16
    _index: dict[str, Step] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for s in self.steps:
            if s.id in self._index:
                raise ValueError(f"two steps are called {s.id}")
            self._index[s.id] = s

    def step(self, step_id: str) -> Step:
        try:
            return self._index[step_id]
        except KeyError:
            raise KeyError(f"no step '{step_id}' (steps: {', '.join(self._index)})") from None

    def grade(self, lab: "Lab", *, upto: Optional[str] = None,
              hints_shown: Optional[dict[str, int]] = None) -> Report:
        """Grades the lab, read-only. Steps run in order; the checks of a step
        run concurrently (probes release the GIL)."""
        hints_shown = hints_shown or {}
        if upto is not None:
            self.step(upto)  # an unknown step is an error, not "grade all"
        started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        t0 = time.monotonic()
        results: list[StepResult] = []
        blocked_by: Optional[str] = None
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            for step in self.steps:
                if step.gated and blocked_by is not None:
                    results.append(StepResult.skipped(
                        step, _("complete step '{step}' first").format(step=blocked_by)))
                else:
                    st = time.monotonic()
                    outcomes = list(pool.map(lambda c: c.run(lab), step.checks))
                    crs = [CheckResult(c.id, c.description, status, msg, round(sec, 4), float(c.weight))
                           for c, (status, msg, sec) in zip(step.checks, outcomes)]
                    results.append(StepResult.from_checks(step, crs, time.monotonic() - st,
                                                          hints_shown.get(step.id, 0)))
                    if results[-1].status != "pass" and step.gated:
                        blocked_by = step.id
                if upto is not None and step.id == upto:
                    break
        return Report(lab=getattr(lab, "name", ""), lab_id=getattr(lab, "id", ""),
                      started=started.isoformat(timespec="seconds"),
                      duration=round(time.monotonic() - t0, 4), steps=results,
                      self_graded=bool(getattr(lab, "self_graded", False)))
