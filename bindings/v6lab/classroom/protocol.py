"""The classroom service's wire protocol: JSON lines over a Unix stream
socket, versioned, every request checked field by field.

A request is one line, at most MAX_LINE bytes:

    {"v": 2, "op": "check", "args": {"lab": "slaac"}}

and every answer one line:

    {"v": 2, "ok": true, "result": ...}
    {"v": 2, "ok": false, "error": "one sentence", "code": 1}

`code` is the exit code the client leaves with (docs/cli.md). Who asks is
never in the request: the service reads it from the kernel (SO_PEERCRED),
so a field naming a user is an unknown field like any other and refused.
The operations that run something in a node (exec, shell, capture) send the
client's stdin, stdout and stderr with the request line (SCM_RIGHTS); the
answer comes when the command ends. While it runs the client may send
{"op": "winch"} lines (its terminal was resized).

This module is pure (no sockets, no namespaces): the unit tests read it
alone (tests/unit/test_classroom_protocol.py).
"""

from __future__ import annotations

# typing is imported only by type checkers (TYPE_CHECKING is true for them),
# and re and json not at all: a trainee's `v6lab check` in a class
# (classroom.quick) loads this module, and those imports would cost it more
# than its request (wirejson says why, and how it parses as json does).
from . import wirejson
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

VERSION = 2  # 2: check may ask for the report drawn (format, width, color, verbose)
MAX_LINE = 64 * 1024
# An answer may be larger than a request (a report, a lab's instructions).
MAX_ANSWER = 64 * 1024 * 1024
# Exit codes a refusal carries (docs/cli.md).
EXIT_FAILED, EXIT_USAGE, EXIT_DENIED, EXIT_INTERNAL = 1, 2, 4, 70

MAX_ARGV = 256
MAX_ARG = 4096


class ProtocolError(Exception):
    """A request the service refuses: its message is one sentence that names
    the field, and code is the client's exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class Request:
    """A checked request: its operation and arguments. (A plain class, not
    a dataclass: dataclasses imports inspect, 6 ms more for each trainee's
    `check` in a class.)"""

    __slots__ = ("op", "args")

    def __init__(self, op: str, args: Optional[dict[str, Any]] = None) -> None:
        self.op = op
        self.args = {} if args is None else args

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Request) and (self.op, self.args) == (other.op, other.args)

    def __repr__(self) -> str:
        return f"Request(op={self.op!r}, args={self.args!r})"


# -- argument kinds -------------------------------------------------------

# The patterns below, checked by hand (re is not imported): on an ASCII
# string, isalpha and isalnum are [A-Za-z] and [A-Za-z0-9].
def _name_chars(value: str) -> bool:
    """[A-Za-z0-9._-]* (ASCII only)."""
    return value.isascii() and value.replace(".", "a").replace("_", "a").replace(
        "-", "a").isalnum()


def _is_name(value: Any) -> bool:
    """[A-Za-z0-9][A-Za-z0-9._-]{0,99}"""
    return (isinstance(value, str) and 1 <= len(value) <= 100 and value[0].isalnum()
            and _name_chars(value))


def _is_user(value: Any) -> bool:
    """[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\\$? (a Samba machine account ends in $)."""
    if not isinstance(value, str):
        return False
    body = value[:-1] if value.endswith("$") else value
    return (1 <= len(body) <= 64 and (body[0].isalnum() or body[0] == "_")
            and _name_chars(body))


def _is_lang(value: Any) -> bool:
    """[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?"""
    if not isinstance(value, str) or not value.isascii():
        return False
    lang, sep, region = value.replace("-", "_").partition("_")
    return 2 <= len(lang) <= 3 and lang.isalpha() and (
        not sep or (2 <= len(region) <= 8 and region.isalnum()))


def _name(value: Any, where: str) -> str:
    if not _is_name(value):
        raise ProtocolError(f"field {where}: expected a name (letters, digits, . _ -)")
    return value


def _user(value: Any, where: str) -> str:
    if not _is_user(value):
        raise ProtocolError(f"field {where}: expected a user name or uid")
    return value


def _lang(value: Any, where: str) -> str:
    if not _is_lang(value):
        raise ProtocolError(f"field {where}: expected a language code such as vi")
    return value


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise ProtocolError(f"field {where}: expected a whole number from 0 to 1000000")
    return value


def _argv(value: Any, where: str) -> list[str]:
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_ARGV
            or not all(isinstance(a, str) and len(a) <= MAX_ARG and "\0" not in a
                       for a in value)):
        raise ProtocolError(f"field {where}: expected a command: 1 to {MAX_ARGV} strings "
                            f"of at most {MAX_ARG} characters, without NUL")
    return value


def _filter(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > 1000 or "\0" in value:
        raise ProtocolError(f"field {where}: expected a tcpdump filter of at most 1000 characters")
    return value


def _format(value: Any, where: str) -> str:
    if value not in EXPORT_FORMATS:
        raise ProtocolError(f"field {where}: expected one of {', '.join(EXPORT_FORMATS)}")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(f"field {where}: expected true or false")
    return value


EXPORT_FORMATS = ("csv", "json", "junit", "xapi", "lti-ags")
REPORT_FORMATS = ("text", "json", "junit", "tap")
COLOR_SYSTEMS = ("standard", "256", "truecolor")


def _report_format(value: Any, where: str) -> str:
    if value not in REPORT_FORMATS:
        raise ProtocolError(f"field {where}: expected one of {', '.join(REPORT_FORMATS)}")
    return value


def _color(value: Any, where: str) -> str:
    if value not in COLOR_SYSTEMS:
        raise ProtocolError(f"field {where}: expected one of {', '.join(COLOR_SYSTEMS)}")
    return value


def _width(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 20 <= value <= 1000:
        raise ProtocolError(f"field {where}: expected a terminal width from 20 to 1000")
    return value

if TYPE_CHECKING:
    Kind = Callable[[Any, str], Any]
_LANGUAGE: dict[str, Kind] = {"lang": _lang}

# op -> (required fields, optional fields, who may ask, passes fds)
OPS: dict[str, tuple[dict[str, Kind], dict[str, Kind], str, bool]] = {
    "hello": ({}, _LANGUAGE, "anyone", False),
    "start": ({"lab": _name}, {**_LANGUAGE, "new": _flag}, "trainee", False),
    "stop": ({}, {"lab": _name, **_LANGUAGE}, "trainee", False),
    "ls": ({}, _LANGUAGE, "trainee", False),
    # format, width, color, verbose: the service renders the report as the
    # client's terminal would show it (the client then loads no grading
    # code and no rich: thirty checks at once are cheap for the server).
    "check": ({}, {"lab": _name, "format": _report_format, "width": _width, "color": _color,
                   "verbose": _flag, **_LANGUAGE}, "trainee", False),
    "hint": ({}, {"lab": _name, "step": _name, **_LANGUAGE}, "trainee", False),
    "solve": ({}, {"lab": _name, "upto": _name, **_LANGUAGE}, "trainee", False),
    "reset": ({}, {"lab": _name, **_LANGUAGE}, "trainee", False),
    "progress": ({}, _LANGUAGE, "trainee", False),
    "exec": ({"node": _name, "argv": _argv}, {"lab": _name, **_LANGUAGE}, "trainee", True),
    "shell": ({"node": _name}, {"lab": _name, **_LANGUAGE}, "trainee", True),
    "capture": ({"node": _name, "iface": _name},
                {"lab": _name, "count": _count, "filter": _filter, **_LANGUAGE}, "trainee", True),
    "class-status": ({}, {"stuck_after": _count, **_LANGUAGE}, "instructor", False),
    "class-export": ({"format": _format}, {"stuck_after": _count, **_LANGUAGE},
                     "instructor", False),
    "class-reset": ({"trainee": _user, "lab": _name}, _LANGUAGE, "instructor", False),
    "class-solve": ({"trainee": _user, "lab": _name}, {"upto": _name, **_LANGUAGE},
                    "instructor", False),
}


def parse(line: bytes) -> Request:
    """A request from one line (without its newline), or ProtocolError
    saying which field is wrong. Never anything else: the service answers
    every input with a request or one sentence."""
    if len(line) > MAX_LINE:
        raise ProtocolError(f"request larger than {MAX_LINE} bytes")
    try:
        d = wirejson.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError("request is not UTF-8") from None
    except (ValueError, RecursionError):
        raise ProtocolError("request is not valid JSON") from None
    if not isinstance(d, dict):
        raise ProtocolError("request is not a JSON object")
    unknown = sorted(set(d) - {"v", "op", "args"})
    if unknown:
        raise ProtocolError(f"field {unknown[0][:40]}: unknown (requests have v, op, args)")
    if d.get("v") != VERSION or isinstance(d.get("v"), bool):
        raise ProtocolError(f"field v: this service speaks protocol version {VERSION} "
                            "(update v6lab on one side)")
    op = d.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError(f"field op: unknown operation (known: {', '.join(OPS)})")
    args = d.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError("field args: expected an object")
    return Request(op, _check_args(op, args))


def _check_args(op: str, args: dict[str, Any]) -> dict[str, Any]:
    required, optional, _who, _fds = OPS[op]
    out = {}
    for key in args:
        if key not in required and key not in optional:
            raise ProtocolError(f"field args.{str(key)[:40]}: unknown for {op}")
    for key, kind in required.items():
        if key not in args:
            raise ProtocolError(f"field args.{key}: missing")
        out[key] = kind(args[key], f"args.{key}")
    for key, kind in optional.items():
        if key in args and args[key] is not None:
            out[key] = kind(args[key], f"args.{key}")
    return out


def who_may(op: str) -> str:
    """'anyone', 'trainee' (any local user) or 'instructor'."""
    return OPS[op][2]


def passes_fds(op: str) -> bool:
    return OPS[op][3]


def request(op: str, **args: Any) -> bytes:
    """The line a client sends (checked as the service will check it)."""
    clean = {k: v for k, v in args.items() if v is not None}
    _check_args(op, clean)
    return wirejson.dumps({"v": VERSION, "op": op, "args": clean}).encode() + b"\n"


def answer(result: Any = None) -> bytes:
    import json  # the service's side: loaded there anyway
    return json.dumps({"v": VERSION, "ok": True, "result": result}).encode() + b"\n"


def refusal(message: str, code: int = EXIT_FAILED) -> bytes:
    import json
    return json.dumps({"v": VERSION, "ok": False, "error": message,
                       "code": code}).encode() + b"\n"


def read_answer(line: bytes) -> tuple[bool, Any, int]:
    """(ok, result or error message, exit code) from the service's line."""
    try:
        d = wirejson.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("the classroom service sent something that is not JSON",
                            EXIT_INTERNAL) from None
    if not isinstance(d, dict) or d.get("v") != VERSION or not isinstance(d.get("ok"), bool):
        raise ProtocolError("the classroom service speaks another protocol version "
                            "(update v6lab on one side)", EXIT_INTERNAL)
    if d["ok"]:
        return True, d.get("result"), 0
    code = d.get("code")
    return False, str(d.get("error") or "refused"), code if isinstance(code, int) else 1


class LineReader:
    """Splits a byte stream into lines of at most MAX_LINE bytes."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        lines = []
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            lines.append(line)
        if len(self._buf) > MAX_LINE:
            self._buf = b""
            raise ProtocolError(f"request larger than {MAX_LINE} bytes")
        return lines

    @property
    def pending(self) -> bool:
        return bool(self._buf)

