"""The class view exported for other tools: CSV (a spreadsheet), JSON (a
script), JUnit XML (a CI dashboard), xAPI statements (a Learning Record
Store) and LTI 1.3 Assignment and Grade Services score objects (an LMS).

All are files: no network client here. xAPI and LTI need the LMS's own
idea of who a trainee is; they get the login name (an xAPI account on the
homePage given, an LTI userId) and the LMS side maps it (docs/classroom.md).
Pure functions of the rows (v6lab.classroom.state.Row): the unit tests read
them alone.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any, Iterable
from xml.etree import ElementTree as ET

from .state import Row

SCHEMA = "v6lab-class/1"
COLUMNS = ("trainee", "uid", "lab", "running", "step_reached", "steps_passed", "steps_total",
           "score", "last_score", "attempts", "hints", "solves", "instructor_solves",
           "completed", "last_progress", "since_progress", "stuck")
XAPI_VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "progressed": "http://adlnet.gov/expapi/verbs/progressed",
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
}


def iso(t: float | None) -> str:
    """UTC, ISO 8601 with a Z (what xAPI and LTI expect); '' for none."""
    if not t:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def to_csv(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        d = r.to_dict()
        d["completed"], d["last_progress"] = iso(r.completed), iso(r.last_progress)
        w.writerow(["" if d[c] is None else str(d[c]).lower() if isinstance(d[c], bool)
                    else d[c] for c in COLUMNS])
    return out.getvalue()


def to_json(rows: Iterable[Row], generated: float | None = None) -> str:
    return json.dumps({"schema": SCHEMA, "generated": iso(generated or time.time()),
                       "graded_by": "v6lab classroom service", "self_graded": False,
                       "rows": [r.to_dict() for r in rows]}, indent=2) + "\n"


def assisted(r: Row) -> int:
    """How often the trainee applied the reference solution to this lab
    themselves (`v6lab solve`): a lab completed that way is not a pass an
    LMS or a CI may count as their work. An instructor's solves are the
    instructor's decision, and are listed beside it."""
    return r.solves


def to_junit(rows: Iterable[Row]) -> str:
    """One testsuite per trainee, one testcase per lab: failed until the
    lab is completed without the reference solution, with the step reached
    (or the solves) in the message."""
    suites = ET.Element("testsuites", name="v6lab-class")
    by_trainee: dict[str, list[Row]] = {}
    for r in rows:
        by_trainee.setdefault(r.trainee, []).append(r)
    for trainee, mine in by_trainee.items():
        suite = ET.SubElement(suites, "testsuite", name=trainee, tests=str(len(mine)),
                              failures=str(sum(r.completed is None or assisted(r) > 0
                                               for r in mine)),
                              errors="0", skipped="0")
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"{trainee}.{r.lab}", name=r.lab)
            props = ET.SubElement(case, "properties")
            for k in ("score", "steps_passed", "steps_total", "hints", "solves",
                      "instructor_solves", "stuck"):
                ET.SubElement(props, "property", name=k, value=str(getattr(r, k)))
            if r.completed is None:
                msg = (f"step {r.step_reached or '?'} not passed yet "
                       f"({r.steps_passed}/{r.steps_total} steps, best score {r.score or 0:g}%)")
                ET.SubElement(case, "failure", message=msg).text = msg
            elif assisted(r):
                msg = (f"completed after the trainee applied the reference solution "
                       f"{assisted(r)} time(s) (v6lab solve): not their own work")
                ET.SubElement(case, "failure", message=msg).text = msg
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _verb(r: Row) -> str:
    if r.completed is not None:
        return "completed"
    return "progressed" if r.steps_passed else "attempted"


def xapi_statements(rows: Iterable[Row], home_page: str = "urn:v6lab") -> list[dict[str, Any]]:
    """One xAPI 1.0.3 statement per trainee and lab: completed, progressed
    or attempted, with the best score scaled to 0..1."""
    out = []
    for r in rows:
        verb = _verb(r)
        score = (r.score or 0.0) / 100.0
        out.append({
            "actor": {"objectType": "Agent", "name": r.trainee,
                      "account": {"homePage": home_page, "name": r.trainee}},
            "verb": {"id": XAPI_VERBS[verb], "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": f"{home_page}/labs/{r.lab}",
                       "definition": {"name": {"en-US": r.lab},
                                      "type": "http://adlnet.gov/expapi/activities/simulation"}},
            "result": {"score": {"scaled": round(score, 4), "raw": r.score or 0.0,
                                 "min": 0, "max": 100},
                       "completion": r.completed is not None,
                       "success": r.completed is not None and not assisted(r),
                       "extensions": {f"{home_page}/steps-passed": r.steps_passed,
                                      f"{home_page}/hints": r.hints,
                                      f"{home_page}/solves": r.solves + r.instructor_solves}},
            "timestamp": iso(r.last_progress or time.time()),
        })
    return out


def lti_scores(rows: Iterable[Row]) -> dict[str, list[dict[str, Any]]]:
    """LTI 1.3 AGS score objects (application/vnd.ims.lis.v1.score+json),
    grouped by lab: each lab is one line item, each object what a tool
    would POST to that line item's /scores."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        done = r.completed is not None
        out.setdefault(r.lab, []).append({
            "userId": r.trainee,
            "scoreGiven": r.score or 0.0,
            "scoreMaximum": 100,
            "activityProgress": "Completed" if done else ("InProgress" if r.attempts
                                                            else "Started"),
            # Completed with `solve`: for the instructor to review, not a grade.
            "gradingProgress": ("PendingManual" if assisted(r) else "FullyGraded") if done
                               else "Pending",
            "timestamp": iso(r.last_progress or time.time()),
            "comment": f"{r.steps_passed}/{r.steps_total} steps; hints {r.hints}; "
                       f"solves {r.solves} (instructor {r.instructor_solves})",
        })
    return out


def export(rows: list[Row], fmt: str) -> str:
    """rows in format fmt (one of protocol.EXPORT_FORMATS)."""
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "json":
        return to_json(rows)
    if fmt == "junit":
        return to_junit(rows)
    if fmt == "xapi":
        return json.dumps(xapi_statements(rows), indent=2) + "\n"
    if fmt == "lti-ags":
        return json.dumps(lti_scores(rows), indent=2) + "\n"
    raise ValueError(f"unknown export format {fmt}")
