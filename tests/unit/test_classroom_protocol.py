"""The classroom service's protocol parser, its class view and its
exporters, without a service: every malformed request is one sentence
naming the field (never an exception of another kind), identity fields are
refused, and each export is in the form the tool that reads it expects."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from v6lab.classroom import export, protocol, state
from v6lab.classroom.protocol import ProtocolError


def test_a_good_request_is_parsed_with_its_fields_checked() -> None:
    req = protocol.parse(b'{"v": 2, "op": "exec", "args": {"node": "h1", "argv": ["ip", "-6", '
                         b'"addr"], "lab": "slaac", "lang": "vi"}}')
    assert req.op == "exec" and req.args["argv"] == ["ip", "-6", "addr"]
    assert protocol.parse(protocol.request("ls").strip()).op == "ls"
    assert protocol.passes_fds("shell") and not protocol.passes_fds("check")
    assert protocol.who_may("class-export") == "instructor"
    assert protocol.who_may("check") == "trainee"


BAD = [
    (b"", "not valid JSON"),
    (b"garbage", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[" * 50000, "not valid JSON"),
    (b"x" * (protocol.MAX_LINE + 1), "larger than"),
    (b"[1]", "not a JSON object"),
    (b'{"op": "ls"}', "field v"),
    (b'{"v": true, "op": "ls"}', "field v"),
    (b'{"v": 3, "op": "ls"}', "field v"),
    (b'{"v": 2, "op": "rm"}', "field op"),
    (b'{"v": 2, "op": 5}', "field op"),
    (b'{"v": 2, "op": "ls", "uid": 0}', "field uid"),
    (b'{"v": 2, "op": "ls", "args": []}', "field args"),
    (b'{"v": 2, "op": "check", "args": {"user": "root"}}', "field args.user"),
    (b'{"v": 2, "op": "start", "args": {}}', "field args.lab: missing"),
    (b'{"v": 2, "op": "start", "args": {"lab": "../etc"}}', "field args.lab"),
    (b'{"v": 2, "op": "start", "args": {"lab": 7}}', "field args.lab"),
    (b'{"v": 2, "op": "exec", "args": {"node": "h1", "argv": "id"}}', "field args.argv"),
    (b'{"v": 2, "op": "exec", "args": {"node": "h1", "argv": []}}', "field args.argv"),
    (b'{"v": 2, "op": "exec", "args": {"node": "h1", "argv": ["a\\u0000b"]}}', "field args.argv"),
    (b'{"v": 2, "op": "capture", "args": {"node": "h1", "iface": "eth0", "count": -1}}',
     "field args.count"),
    (b'{"v": 2, "op": "capture", "args": {"node": "h1", "iface": "eth0", "count": true}}',
     "field args.count"),
    (b'{"v": 2, "op": "class-export", "args": {"format": "pdf"}}', "field args.format"),
    (b'{"v": 2, "op": "class-reset", "args": {"trainee": "a b", "lab": "x"}}',
     "field args.trainee"),
    (b'{"v": 2, "op": "ls", "args": {"lang": "../../x"}}', "field args.lang"),
]


@pytest.mark.parametrize("line,why", BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_bad_request_is_one_sentence_naming_the_field(line: bytes, why: str) -> None:
    with pytest.raises(ProtocolError) as e:
        protocol.parse(line)
    assert why in str(e.value) and e.value.code == protocol.EXIT_USAGE
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_answers_read_back_and_a_foreign_answer_is_an_error() -> None:
    assert protocol.read_answer(protocol.answer({"x": 1}).strip()) == (True, {"x": 1}, 0)
    assert protocol.read_answer(protocol.refusal("no", 4).strip()) == (False, "no", 4)
    for line in (b"nope", b'{"v": 9, "ok": true}', b'{"v": 2}'):
        with pytest.raises(ProtocolError):
            protocol.read_answer(line)


def test_the_line_reader_splits_and_bounds_lines() -> None:
    r = protocol.LineReader()
    assert r.feed(b'{"a"') == [] and r.pending
    assert r.feed(b': 1}\n{"b": 2}\n') == [b'{"a": 1}', b'{"b": 2}']
    with pytest.raises(ProtocolError):
        r.feed(b"x" * (protocol.MAX_LINE + 1))


def test_a_client_cannot_build_a_request_the_service_would_refuse() -> None:
    with pytest.raises(ProtocolError):
        protocol.request("start", lab="../x")
    with pytest.raises(ProtocolError):
        protocol.request("ls", uid=0)


# -- the class view -------------------------------------------------------------

STEPS = ["forwarding", "radvd", "slaac", "reach-srv"]


def _trainee(tmp_path: Path, uid: int, name: str, events: list[dict]) -> None:
    d = tmp_path / "users" / str(uid)
    d.mkdir(parents=True)
    (d / "user").write_text(name)
    with open(d / "events.jsonl", "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
        f.write("{not json\n")  # a torn line is skipped


def _check(at: float, passed: int, score: float) -> dict:
    return {"at": at, "ev": "check", "lab": "slaac", "score": score, "steps": STEPS,
            "passed": STEPS[:passed]}


def _class(tmp_path: Path) -> list[state.Row]:
    _trainee(tmp_path, 1001, "alice", [
        {"at": 100.0, "ev": "start", "lab": "slaac"}, _check(110.0, 1, 11.1),
        {"at": 120.0, "ev": "hint", "lab": "slaac", "step": "radvd"},
        _check(130.0, 1, 11.1),  # no progress: same steps passed
        _check(200.0, 4, 100.0), {"at": 210.0, "ev": "solve", "lab": "slaac", "by": "instructor"}])
    _trainee(tmp_path, 1002, "bob", [{"at": 100.0, "ev": "start", "lab": "slaac"},
                                     _check(105.0, 0, 0.0)])
    return state.class_rows(tmp_path, {(1002, "slaac"): True}, stuck_after=600, now=1000.0)


def test_the_class_view_adds_up_each_trainees_events(tmp_path: Path) -> None:
    alice, bob = _class(tmp_path)
    assert (alice.trainee, alice.steps_passed, alice.steps_total, alice.step_reached) == \
        ("alice", 4, 4, "")
    assert alice.score == 100.0 and alice.attempts == 3 and alice.hints == 1
    assert alice.solves == 0 and alice.instructor_solves == 1 and alice.completed == 200.0
    assert alice.last_progress == 210.0 and not alice.stuck  # not running
    # bob's check passed nothing: his last progress is the start, and he is stuck.
    assert bob.step_reached == "forwarding" and bob.last_progress == 100.0
    assert bob.since_progress == 900.0 and bob.stuck


def test_exports_are_in_the_form_their_readers_expect(tmp_path: Path) -> None:
    rows = _class(tmp_path)
    table = list(csv.DictReader(io.StringIO(export.export(rows, "csv"))))
    assert [r["trainee"] for r in table] == ["alice", "bob"]
    assert table[1]["stuck"] == "true" and table[0]["completed"].endswith("Z")
    data = json.loads(export.export(rows, "json"))
    assert data["schema"] == export.SCHEMA and data["self_graded"] is False
    suites = ET.fromstring(export.export(rows, "junit"))
    bob = suites.find("testsuite[@name='bob']")
    assert bob is not None and bob.get("failures") == "1"
    assert "forwarding" in bob.find("testcase/failure").get("message")
    statements = json.loads(export.export(rows, "xapi"))
    assert statements[0]["verb"]["id"].endswith("/completed")
    assert statements[0]["result"]["score"]["scaled"] == 1.0
    assert statements[1]["verb"]["id"].endswith("/attempted")
    assert statements[1]["actor"]["account"]["name"] == "bob"
    lti = json.loads(export.export(rows, "lti-ags"))["slaac"]
    assert lti[0]["activityProgress"] == "Completed" and lti[0]["gradingProgress"] == "FullyGraded"
    assert lti[1]["activityProgress"] == "InProgress" and lti[1]["scoreMaximum"] == 100
    assert all(s["timestamp"].endswith("Z") for s in lti)


def test_a_lab_the_trainee_solved_is_no_pass_in_any_export(tmp_path: Path) -> None:
    # Found by an adversarial pass: `solve` then `check` exported as a full,
    # finished grade. The score stays what the grader measured; the exports
    # an LMS or a CI reads say it was not the trainee's own work.
    _trainee(tmp_path, 1003, "carol", [
        {"at": 100.0, "ev": "start", "lab": "slaac"},
        {"at": 110.0, "ev": "solve", "lab": "slaac", "by": "trainee"}, _check(120.0, 4, 100.0)])
    (carol,) = state.class_rows(tmp_path, {}, stuck_after=600, now=1000.0)
    assert carol.solves == 1 and carol.completed == 120.0
    case = ET.fromstring(export.export([carol], "junit")).find("testsuite/testcase")
    assert "reference solution" in case.find("failure").get("message")
    (statement,) = json.loads(export.export([carol], "xapi"))
    assert statement["result"]["completion"] is True and statement["result"]["success"] is False
    (score,) = json.loads(export.export([carol], "lti-ags"))["slaac"]
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "PendingManual"
    assert score["scoreGiven"] == 100.0 and "solves 1" in score["comment"]


def test_iso_times_are_utc() -> None:
    assert export.iso(0) == "" and export.iso(86400.5) == "1970-01-02T00:00:00.500Z"
    assert time.gmtime(0).tm_year == 1970


# -- which mode is in force --------------------------------------------------------

def test_the_mode_is_decided_once_and_off_wins(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    from v6lab.classroom import client
    monkeypatch.setattr(client, "DEFAULT_SOCKET", tmp_path / "absent.sock")
    monkeypatch.delenv("V6LAB_CLASS", raising=False)
    monkeypatch.delenv("V6LAB_CLASS_SOCKET", raising=False)
    assert client.class_socket() is None  # no class configured: labs of one's own
    monkeypatch.setenv("V6LAB_CLASS_SOCKET", str(tmp_path / "class.sock"))
    assert client.class_socket() == tmp_path / "class.sock"  # even if nothing listens
    monkeypatch.setenv("V6LAB_CLASS", "off")
    assert client.class_socket() is None


def test_a_class_that_does_not_answer_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    from v6lab.classroom import client
    with pytest.raises(client.ClassError) as e:
        client.call(tmp_path / "nothing.sock", "ls")
    assert "does not answer" in str(e.value) and "V6LAB_CLASS=off" in str(e.value)
    with pytest.raises(client.ClassError) as e:
        client.call(tmp_path / "nothing.sock", "start", lab="../x")
    assert e.value.exit_code == 2


# The validators are written without re (a trainee's `check` in a class
# would pay for importing it): they must accept exactly what these
# patterns, the documented rules, accept.
RULES = {
    protocol._is_name: r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}",
    protocol._is_user: r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\$?",
    protocol._is_lang: r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?",
}


def _candidates() -> list[str]:
    import random
    rng = random.Random(6)
    alphabet = "aZ09._-$ /é\n\0"
    out = ["", "a", "vi", "vi_VN", "pt-BR", "abcd", "vi_", "_vi", "a$", "$", "a$$", "..",
           "x" * 100, "x" * 101, "u" * 64 + "$", "u" * 65, "vi-abcdefgh", "vi-abcdefghi",
           "vie_VN", "vi__VN", "vi-_x", "٣٣", "ａｂ"]
    for _ in range(4000):
        n = rng.choice((1, 2, 3, 4, 6, 10, 63, 64, 65, 99, 100, 101))
        out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


@pytest.mark.parametrize("check", list(RULES), ids=lambda f: f.__name__)
def test_a_validator_accepts_what_its_rule_accepts(check) -> None:
    import re
    rule = re.compile(RULES[check], re.ASCII)
    wrong = [s for s in _candidates() if check(s) != bool(rule.fullmatch(s))]
    assert not wrong, f"{check.__name__} disagrees with {RULES[check]} on {wrong[:5]!r}"
    assert not check(7) and not check(None)


# wirejson parses with json's own C scanner and encodes requests by hand:
# both must agree with the json module, on good lines and on mangled ones.
def _json_samples() -> list[str]:
    import random
    rng = random.Random(64)
    good = [
        protocol.request("check", lab="slaac", format="text", width=80, verbose=True,
                         lang="vi").decode().strip(),
        json.dumps({"v": 2, "ok": True, "result": {"output": "Điểm: 100 %\n\x1b[1m", "exit": 0,
                                                  "steps": [1, 2.5, -3e-7, None, False]}}),
        json.dumps({"v": 2, "ok": False, "error": "a \"quoted\" \\ \u2028 line", "code": 4}),
        '  {"a": [ ] , "b" : {}}\n', '"\\ud83d\\ude00"', "1e400", "-0", "123456789012345678901",
    ]
    bad = ['{"a": NaN}', "[Infinity]", "-Infinity", "{} {}", "{", "", "   ", '{"a" 1}', "[1,]",
           '"\x01"', "\ufeff{}", "01", '{"a": 1}x', "tru", '"\\x"', "[" * 100000]
    out = good + bad
    for _ in range(3000):
        s = rng.choice(good)
        i = rng.randrange(len(s) + 1)
        out.append(rng.choice([s[:i], s[:i] + s[i + 1:], s[:i] + rng.choice('{}[]",:\\0a ') + s[i:]]))
    return out


def test_wirejson_parses_what_json_parses() -> None:
    from v6lab.classroom import wirejson
    differ = []
    for text in _json_samples():
        try:
            want = ("ok", json.loads(text))
        except (ValueError, RecursionError):
            want = ("refused",)
        try:
            got = ("ok", wirejson.loads(text))
        except (ValueError, RecursionError):
            got = ("refused",)
        if got != want and not ("NaN" in text or "Infinity" in text):
            differ.append((text[:60], want, got))
    assert not differ, differ[:3]
    for text in ('{"a": NaN}', "[Infinity]", "-Infinity"):
        with pytest.raises(ValueError):
            wirejson.loads(text)


@pytest.mark.parametrize("value", [
    {"v": 2, "op": "check", "args": {"lab": "slaac", "width": 80, "verbose": True, "x": None}},
    {"é": "ü\n\"\\\x00\U0001F600", "n": -12345678901234567890, "f": False, "l": ["a", 1, None]},
    {}, [], "plain", 0, {"nested": {"deeper": [{"a": []}]}},
    {"float": 1.5}, {1: "int key"}, ("tuple",), {"b": b"bytes"}.get("x"),
])
def test_wirejson_writes_what_json_writes(value) -> None:
    from v6lab.classroom import wirejson
    assert wirejson.dumps(value) == json.dumps(value)
