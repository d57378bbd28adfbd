"""The quick path of a trainee's `check` in a class (v6lab.classroom.quick):
which command lines it takes, and what it leaves to the full command line,
which must answer everything else with its own messages. Pure: no service,
no root."""

from __future__ import annotations

from pathlib import Path

import pytest

from v6lab.classroom import quick


@pytest.mark.parametrize("argv,expected", [
    (["check"], (None, {})),
    (["check", "--lab", "slaac"], (None, {"lab": "slaac"})),
    (["check", "--lab=slaac", "-v"], (None, {"lab": "slaac", "verbose": True})),
    (["check", "--format", "json", "--verbose"], (None, {"format": "json", "verbose": True})),
    (["--lang", "vi", "check"], ("vi", {})),
    (["--lang=vi", "check", "--format=tap"], ("vi", {"format": "tap"})),
])
def test_it_takes_the_checks_it_is_sure_of(argv: list[str], expected: tuple) -> None:
    assert quick._parse(argv) == expected


@pytest.mark.parametrize("argv", [
    [], ["hint"], ["checks"], ["check", "--help"], ["check", "-h"], ["check", "--lab"],
    ["check", "--lab", "--verbose"], ["check", "--lab", "a", "--lab", "b"],
    ["check", "--format", "xml"], ["check", "--format="], ["check", "-vv"],
    ["check", "--"], ["check", "extra"], ["--lang"], ["--lang", "vi"], ["--version"],
    ["--langx", "vi", "check"], ["--lang", "-v", "check"], ["-v", "check"],
    ["check", "--verbose", "--verbose"],
])
def test_anything_else_is_left_to_the_full_command(argv: list[str]) -> None:
    assert quick._parse(argv) is None


def test_main_sends_nothing_when_no_class_is_in_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("V6LAB_CLASS", "off")
    assert quick.main(["check"]) is None


def test_main_sends_nothing_to_a_service_that_is_not_there(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("V6LAB_CLASS", raising=False)
    monkeypatch.setenv("V6LAB_CLASS_SOCKET", str(tmp_path / "none.sock"))
    # Nothing was sent: the full command line says the service does not answer.
    assert quick.main(["check"]) is None


@pytest.mark.parametrize("env,tty,expected", [
    ({}, False, (80, None)),
    ({"COLUMNS": "132"}, False, (132, None)),
    ({"COLUMNS": "5"}, False, (20, None)),
    ({"FORCE_COLOR": "1", "TERM": "xterm"}, False, (80, "standard")),
    ({"TERM": "xterm-256color"}, True, (80, "256")),
    ({"TERM": "xterm", "COLORTERM": "truecolor"}, True, (80, "truecolor")),
    ({"TERM": "dumb"}, True, (80, None)),
    ({"TERM": "xterm", "NO_COLOR": "1"}, True, (80, None)),
])
def test_the_terminal_is_judged_as_rich_would(monkeypatch: pytest.MonkeyPatch, env: dict,
                                               tty: bool, expected: tuple) -> None:
    for var in ("COLUMNS", "FORCE_COLOR", "TERM", "COLORTERM", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("sys.stdout.isatty", lambda: tty)
    monkeypatch.setattr("os.get_terminal_size", lambda fd=0: (_ for _ in ()).throw(OSError()))
    assert quick.terminal() == expected


def test_the_request_is_one_the_service_accepts() -> None:
    from v6lab.classroom import protocol
    line = protocol.request("check", **quick.check_args("slaac", "text", True))
    req = protocol.parse(line.rstrip(b"\n"))
    assert req.op == "check" and req.args["lab"] == "slaac" and req.args["verbose"] is True
    assert req.args["format"] == "text" and 20 <= req.args["width"] <= 1000


def test_it_loads_nothing_heavy() -> None:
    """What a trainee's check in a class imports, in a fresh interpreter:
    none of the modules that cost it most of its CPU (json, re and enum,
    socket, pathlib, threading, typing) nor the rest of v6lab. A slip back
    costs every check of a class, so it is tested, not measured."""
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[2] / "bindings"
    code = ("import sys; base = set(sys.modules); import v6lab.classroom.quick; "
            "print(' '.join(sorted(set(sys.modules) - base)))")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(root)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert "v6lab.classroom.quick" in out  # the check sees the import happen
    heavy = {"json", "re", "enum", "socket", "pathlib", "threading", "typing", "gettext",
             "dataclasses", "importlib", "click", "rich", "v6lab._core", "v6lab.lab"}
    assert not heavy & set(out), f"quick loads {sorted(heavy & set(out))}"


def test_a_refusal_before_the_request_is_read_is_shown(
        monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture) -> None:
    """The service refuses some callers (a uid of no user, too many
    connections) as they connect: it writes its sentence and closes before
    reading anything. The client's send then fails (EPIPE here, since the
    close has surely happened first); the trainee must still read the
    sentence and leave with its code, not "Broken pipe"."""
    import socket
    import threading

    from v6lab.classroom import protocol
    path = tmp_path / "class.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    closed = threading.Event()

    def refuse() -> None:
        conn, _ = srv.accept()
        conn.sendall(protocol.refusal("uid 7 is no user of this host", protocol.EXIT_DENIED))
        conn.close()
        closed.set()

    t = threading.Thread(target=refuse)
    t.start()
    real_send = quick.send

    def send_after_close(s, line: bytes) -> None:
        assert closed.wait(10)
        with pytest.raises(BrokenPipeError):  # what a plain sendall meets
            s.sendall(line)
        real_send(s, line)

    monkeypatch.setattr(quick, "send", send_after_close)
    monkeypatch.delenv("V6LAB_CLASS", raising=False)
    monkeypatch.setenv("V6LAB_CLASS_SOCKET", str(path))
    try:
        code = quick.main(["check"])
    finally:
        t.join(10)
        srv.close()
    assert code == protocol.EXIT_DENIED
    assert "no user of this host" in capsys.readouterr().err
