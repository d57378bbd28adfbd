"""The result model and its exporters: terminal (rich), JSON, JUnit XML, TAP.

JSON schema (version 1; documented in docs/grading.md):
  {schema, lab, lab_id, started, duration, earned, possible, score, passed,
   self_graded,
   steps: [{id, title, status, earned, possible, message, hint,
            hints_available, duration,
            checks: [{id, description, status, message, duration, weight}]}]}
status is one of pass, fail, error, skipped. self_graded is true when the
lab runs under the trainee's own user (started without root): they own its
namespaces from outside, so the score is self-assessment, not a record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Optional
from xml.etree import ElementTree as ET

from ..i18n import N_, _

if TYPE_CHECKING:
    from .model import Step

SCHEMA = "v6lab-report/1"


@dataclass
class CheckResult:
    id: str
    description: str
    status: str
    message: str
    duration: float
    weight: float = 1.0


@dataclass
class StepResult:
    id: str
    title: str
    status: str
    earned: float
    possible: float
    message: str
    hint: Optional[str]
    hints_available: int
    duration: float
    checks: list[CheckResult] = field(default_factory=list)

    @classmethod
    def from_checks(cls, step: "Step", checks: list[CheckResult], duration: float,
                    hints_shown: int) -> "StepResult":
        total = sum(c.weight for c in checks) or 1.0
        good = sum(c.weight for c in checks if c.status == "pass")
        if any(c.status == "error" for c in checks):
            status = "error"
        elif good == total:
            status = "pass"
        else:
            status = "fail"
        if status == "pass":
            earned = step.points
        elif step.partial:
            earned = step.points * good / total
        else:
            earned = 0.0
        first_bad = next((c for c in checks if c.status != "pass"), None)
        hint = None
        if status != "pass" and step.hints:
            # The latest hint the trainee asked for, or the first one.
            hint = step.hints[max(min(hints_shown, len(step.hints)) - 1, 0)]
        return cls(step.id, step.title, status, float(round(earned, 3)), float(step.points),
                   first_bad.message if first_bad else "", hint, len(step.hints),
                   round(duration, 4), checks)

    @classmethod
    def skipped(cls, step: "Step", why: str) -> "StepResult":
        checks = [CheckResult(c.id, c.description, "skipped", why, 0.0, float(c.weight))
                  for c in step.checks]
        return cls(step.id, step.title, "skipped", 0.0, float(step.points), why, None,
                   len(step.hints), 0.0, checks)


@dataclass
class Report:
    lab: str
    lab_id: str
    started: str       # UTC, ISO 8601 without zone (JUnit's timestamp format)
    duration: float
    steps: list[StepResult]
    self_graded: bool = False

    # English, as a constant; self_graded_note() is in the trainee's language.
    SELF_GRADED_NOTE = N_("self-assessment: this lab runs under your own user, who can change "
                          "anything in it from outside the nodes, so this score is for practice, "
                          "not a class record")

    def self_graded_note(self) -> str:
        return _(self.SELF_GRADED_NOTE)

    @property
    def earned(self) -> float:
        return round(sum(s.earned for s in self.steps), 3)

    @property
    def possible(self) -> float:
        return round(sum(s.possible for s in self.steps), 3)

    @property
    def score(self) -> float:
        """Percentage, 0-100."""
        return round(100.0 * self.earned / self.possible, 1) if self.possible else 0.0

    @property
    def passed(self) -> bool:
        return all(s.status == "pass" for s in self.steps)

    @property
    def has_errors(self) -> bool:
        return any(s.status == "error" for s in self.steps)

    def step(self, step_id: str) -> StepResult:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def first_unfinished(self) -> Optional[StepResult]:
        return next((s for s in self.steps if s.status != "pass"), None)

    # -- exporters --------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "lab": self.lab, "lab_id": self.lab_id,
                "started": self.started, "duration": self.duration,
                "earned": self.earned, "possible": self.possible,
                "score": self.score, "passed": self.passed,
                "self_graded": self.self_graded,
                "steps": [asdict(s) for s in self.steps]}

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_junit(self) -> str:
        """JUnit XML: one testsuite per lab, one testcase per check."""
        checks = [(s, c) for s in self.steps for c in s.checks]
        suites = ET.Element("testsuites", name="v6lab")
        suite = ET.SubElement(
            suites, "testsuite", name=self.lab, tests=str(len(checks)),
            failures=str(sum(c.status == "fail" for _step, c in checks)),
            errors=str(sum(c.status == "error" for _step, c in checks)),
            skipped=str(sum(c.status == "skipped" for _step, c in checks)),
            time=f"{self.duration:.3f}", timestamp=self.started)
        props = ET.SubElement(suite, "properties")
        for k, v in (("score", self.score), ("earned", self.earned),
                     ("possible", self.possible), ("lab_id", self.lab_id),
                     ("self_graded", str(self.self_graded).lower())):
            ET.SubElement(props, "property", name=k, value=str(v))
        for s, c in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{self.lab}.{s.id}",
                                 name=c.description, time=f"{c.duration:.3f}")
            if c.status == "fail":
                f = ET.SubElement(case, "failure", message=c.message)
                f.text = c.message + ("\n" + _("hint: {hint}").format(hint=s.hint) if s.hint else "")
            elif c.status == "error":
                ET.SubElement(case, "error", message=c.message).text = c.message
            elif c.status == "skipped":
                ET.SubElement(case, "skipped", message=c.message)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True)

    def to_tap(self) -> str:
        """TAP version 13: one test point per check, YAML diagnostics."""
        lines = ["TAP version 13"]
        checks = [(s, c) for s in self.steps for c in s.checks]
        lines.append(f"1..{len(checks)}")
        for i, (s, c) in enumerate(checks, 1):
            name = f"{s.id}: {c.description}"
            if c.status == "pass":
                lines.append(f"ok {i} - {name}")
            elif c.status == "skipped":
                lines.append(f"ok {i} - {name} # SKIP {c.message}")
            else:
                lines.append(f"not ok {i} - {name}")
                lines.append("  ---")
                lines.append(f"  status: {c.status}")
                lines.append(f"  message: {json.dumps(c.message)}")
                if s.hint:
                    lines.append(f"  hint: {json.dumps(s.hint)}")
                lines.append("  ...")
        lines.append(f"# score {self.score}% ({self.earned}/{self.possible})")
        if self.self_graded:
            lines.append(f"# {self.self_graded_note()}")
        return "\n".join(lines) + "\n"

    def exit_code(self) -> int:
        """What `v6lab check` exits with: 0 when every step passed, 1 when
        some did not, 6 (EXIT_GRADER, docs/cli.md) if the grader itself
        failed."""
        return 6 if self.has_errors else (0 if self.passed else 1)

    def output(self, fmt: str, heading: str, where: str, verbose: bool = False,
               console: Any = None, json_text: Optional[str] = None) -> str:
        """What `v6lab check` prints in fmt (text, json, junit, tap). For
        text, console is the rich console to draw on (its own terminal's
        width and colours; see text_console), and what is returned is what
        it recorded, or "" if it printed straight to a terminal."""
        if fmt == "json":
            return (json_text if json_text is not None else self.to_json()) + "\n"
        if fmt == "junit":
            return self.to_junit() + "\n"
        if fmt == "tap":
            return self.to_tap()
        from rich.markup import escape
        from rich.console import Console
        con = console or Console()
        con.print(f"[bold]{escape(heading)}[/] [dim]({escape(where)})[/]")
        self.render(con, verbose=verbose)
        if self.passed:
            con.print("\n[bold green]" + escape(_("All steps done. Well done!")) + "[/]")
        return con.file.getvalue() if getattr(con, "_v6lab_recorded", False) else ""

    def render(self, console: Any = None, verbose: bool = False) -> None:
        """A checklist for a terminal: steps with marks and points, then the
        first unfinished step's message and hint. Every text is escaped:
        a message quotes what the trainee wrote (a file, an answer), and
        "[/][green]✔" in it must print as typed, not as a mark."""
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        con = console or Console()
        marks = {"pass": "[green]✔[/]", "fail": "[red]✘[/]", "error": "[magenta]![/]",
                 "skipped": "[dim]·[/]"}
        t = Table(show_header=True, header_style="bold", box=None)
        t.add_column("")
        # TRANSLATORS: column headers of the checklist `v6lab check` prints.
        t.add_column(_("step"))
        t.add_column(_("points"), justify="right")
        for s in self.steps:
            t.add_row(marks[s.status], f"{escape(s.title)} [dim]({escape(s.id)})[/]",
                      f"{s.earned:g}/{s.possible:g}")
            if verbose or s.status in ("fail", "error"):
                for c in s.checks:
                    if verbose or c.status != "pass":
                        t.add_row("", f"  {marks[c.status]} {escape(c.description)}", "")
        con.print(t)
        # Markup stays out of the messages: translators see words only.
        score = _("Score: {score}%").format(score=f"{self.score:g}")
        graded = _("graded in {ms} ms").format(ms=f"{self.duration * 1000:.0f}")
        con.print(f"[bold]{escape(score)}[/] ({self.earned:g}/{self.possible:g}) [dim]{escape(graded)}[/]")
        if self.self_graded:
            con.print(f"[dim]({escape(self.self_graded_note())})[/]")
        nxt = self.first_unfinished()
        if nxt is not None and nxt.status != "skipped":
            con.print(f"\n[bold]{escape(nxt.title)}[/]: {escape(nxt.message)}")
            if nxt.hint:
                label = _("Hint:")
                con.print(f"[yellow]{escape(label)}[/] {escape(nxt.hint)}")


def text_console(width: int, color: Optional[str]) -> Any:
    """A rich console that keeps what it prints, as it would print it on a
    terminal of that width and colour system (None: no colours, as for a
    pipe): the classroom service draws a trainee's report on it, and the
    trainee's command prints the text as it came."""
    import io
    from rich.console import Console
    con = Console(file=io.StringIO(), width=width, color_system=color,
                  force_terminal=color is not None, legacy_windows=False)
    con._v6lab_recorded = True  # Report.output returns what it kept
    return con
