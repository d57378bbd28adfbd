"""A check: one observable fact about a lab, with an actionable message.

A check's function returns a short description of what it observed when the
fact holds, and raises CheckFailed(message) when it does not. Anything else
it raises is a grader error, never a pass. Checks that depend on timers
(DAD, RA intervals, DHCPv6) set `within`: they are retried until they pass
or the window closes.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from ..lab import Lab


class CheckFailed(Exception):
    """The fact does not hold; the message says what was observed."""


@dataclass
class Check:
    description: str
    fn: Callable[["Lab"], Optional[str]]
    within: float = 0.0
    interval: float = 0.1
    weight: float = 1.0
    id: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def run(self, lab: "Lab") -> tuple[str, str, float]:
        """Returns (status, message, seconds): status is pass, fail or error."""
        t0 = time.monotonic()
        deadline = t0 + self.within
        while True:
            try:
                observed = self.fn(lab)
                return "pass", observed or "", time.monotonic() - t0
            except CheckFailed as e:
                if time.monotonic() + self.interval > deadline:
                    return "fail", str(e), time.monotonic() - t0
            except Exception as e:  # a broken check or lab: never a pass
                where = traceback.extract_tb(e.__traceback__)[-1]
                return ("error", f"grader error: {type(e).__name__}: {e} "
                        f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})",
                        time.monotonic() - t0)
            time.sleep(self.interval)

    def with_options(self, **kw: Any) -> "Check":
        """A copy with other options (within=, weight=, id=)."""
        return dataclasses.replace(self, **kw)
