"""A check: one observable fact about a lab, with an actionable message.

A check's function returns a short description of what it observed when the
fact holds, and raises CheckFailed(message) when it does not. Anything else
it raises is a grader error, never a pass. Checks that depend on timers
(DAD, RA intervals, DHCPv6) set `within`: they are retried until they pass
or the window closes.

A check waits only while something is still in flight, so that `v6lab
check` on a lab where nothing is done answers at once: with
retry="pending" (the library's state checks) only a CheckPending (a
tentative address, an incomplete neighbour entry) is retried, and the
result says what was waited for; with retry="any" (the default, for checks
whose progress cannot be seen, such as a route learned from the next RA)
every failure is retried until the window closes.

`check.after(first)` tries a costly check (one that provokes and listens
on the wire) only once a cheap one holds, so that a fresh lab fails fast:
first is run once, with its own options; if it does not pass, the check
fails at once with first's message ("not tried yet: ..."), whatever its
own `within`; otherwise the check runs as it would alone.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..i18n import _

if TYPE_CHECKING:
    from ..lab import Lab


class CheckFailed(Exception):
    """The fact does not hold; the message says what was observed."""


class CheckPending(CheckFailed):
    """The fact does not hold yet, but something that will settle it is in
    flight (an address in DAD, a neighbour being resolved): worth waiting
    for within the check's window."""


@dataclass
class Check:
    description: str
    fn: Callable[["Lab"], Optional[str]]
    within: float = 0.0
    interval: float = 0.1
    weight: float = 1.0
    id: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    retry: str = "any"   # "any" failure, or only "pending" ones (see above)
    requires: Optional["Check"] = None   # tried only once this passes (after())

    def after(self, first: "Check") -> "Check":
        """A copy tried only once `first` passes (module doc). The copy
        keeps this check's function, description, weight and window: its
        messages past the gate are this check's."""
        return self.with_options(requires=first)

    def run(self, lab: "Lab") -> tuple[str, str, float]:
        """Returns (status, message, seconds): status is pass, fail or error."""
        gate = 0.0
        if self.requires is not None:
            status, msg, gate = self.requires.run(lab)
            if status == "fail":
                return "fail", _("not tried yet: {reason}").format(reason=msg), gate
            if status != "pass":   # an error in the gate is an error here, never a pass
                return status, msg, gate
        status, msg, sec = self._run(lab)   # its own window, from now
        return status, msg, gate + sec

    def _run(self, lab: "Lab") -> tuple[str, str, float]:
        t0 = time.monotonic()
        deadline = t0 + self.within
        waited_for = ""
        while True:
            try:
                observed = self.fn(lab) or ""
                if waited_for:
                    observed += " " + _("(waited {seconds} s: {what})").format(
                        seconds=f"{time.monotonic() - t0:.1f}", what=waited_for)
                return "pass", observed, time.monotonic() - t0
            except CheckFailed as e:
                pending = isinstance(e, CheckPending)
                if pending:
                    waited_for = str(e)
                settled = self.retry == "pending" and not pending
                if settled or time.monotonic() + self.interval > deadline:
                    msg = str(e)
                    if pending and self.within:
                        msg += " " + _("(still so after {seconds} s)").format(
                            seconds=f"{time.monotonic() - t0:.1f}")
                    return "fail", msg, time.monotonic() - t0
            except Exception as e:  # a broken check or lab: never a pass
                where = traceback.extract_tb(e.__traceback__)[-1]
                # The exception's own text stays as it is (often Python's).
                return ("error", _("grader error: {error} ({where})").format(
                            error=f"{type(e).__name__}: {e}",
                            where=f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}"),
                        time.monotonic() - t0)
            time.sleep(self.interval)

    def with_options(self, **kw: Any) -> "Check":
        """A copy with other options (within=, weight=, id=)."""
        return dataclasses.replace(self, **kw)
