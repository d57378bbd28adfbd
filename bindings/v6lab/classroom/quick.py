"""The trainee's `v6lab check` in a class, without the rest of v6lab.

Why: in a class, `check` is the command thirty trainees type at the same
moment, and the server pays for every one of them. The full command line
loads click, the core and every verb's module (about 70 ms of CPU) only to
send one request; the service does the grading and draws the report
(worker.op_check). This path loads json, socket and the catalogues (about
20 ms) and sends the very same request (check_args, shared with
cli.class_commands).

It takes only what it is sure of: `[--lang CODE] check [--lab NAME]
[--format FORMAT] [--verbose|-v]` with valid values, a class in force by
V6LAB_CLASS_SOCKET or by the default socket for a user who is not root. For
anything else (help, a typo, an odd value, no class, a service that cannot
be reached) main() returns None before anything is sent, and the full
command line runs, with its own messages: the service never sees a request
from here that the full command would not have sent.
"""

from __future__ import annotations

# _socket, not socket: the socket module builds its enums at import (enum
# is a costly import), for names this path does not use. pathlib and re are
# kept out as well (tests/unit/test_classroom_quick.py lists what it loads).
import _socket
import os
import stat
import sys
# typing only for type checkers: see v6lab.i18n.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

from .. import i18n
from . import protocol

DEFAULT_SOCKET = "/run/v6lab-class/class.sock"


class Unanswered(Exception):
    """The service ended the connection without a whole answer: one
    sentence in the trainee's language, and the exit code."""

    def __init__(self, message: str, code: int = protocol.EXIT_INTERNAL) -> None:
        super().__init__(message)
        self.code = code


def terminal() -> tuple[int, Optional[str]]:
    """The width and colour system of this command's stdout, as rich would
    judge them (the service draws a report for it): COLUMNS, else the
    terminal's width, else 80; no colours for a pipe, NO_COLOR or a dumb
    terminal (FORCE_COLOR forces them); truecolor, 256 or standard from
    COLORTERM and TERM."""
    env = os.environ
    width = 80
    tty = sys.stdout.isatty()
    if env.get("COLUMNS", "").isdigit():
        width = int(env["COLUMNS"])
    elif tty:
        try:
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        except OSError:
            pass
    width = min(max(width, 20), 1000)
    term = env.get("TERM", "").lower()
    if env.get("NO_COLOR") or not (tty or env.get("FORCE_COLOR")) or term in ("dumb", "unknown"):
        return width, None
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return width, "truecolor"
    return width, "256" if term.endswith("256color") else "standard"


def check_args(lab: Optional[str], fmt: str, verbose: bool) -> dict[str, Any]:
    """The arguments of a check request: the report drawn by the service for
    this terminal, in fmt (both command lines send exactly these)."""
    width, color = terminal()
    return {"lab": lab, "format": fmt, "verbose": verbose or None, "width": width,
            "color": color}


def language() -> Optional[str]:
    """The language to ask the service for (None: English)."""
    lang = i18n.language()
    return lang if lang != i18n.SOURCE_LANGUAGE else None


def read_line(s: _socket.socket) -> bytes:
    """The answer line (without its newline), or Unanswered."""
    buf = b""
    while b"\n" not in buf:
        try:
            data = s.recv(65536)
        except InterruptedError:
            continue
        if not data:
            raise Unanswered(i18n._(
                "the classroom service closed the connection without an answer"))
        buf += data
        if len(buf) > protocol.MAX_ANSWER:
            raise Unanswered(i18n._("the classroom service sent an answer too large to read"))
    return buf.split(b"\n", 1)[0]


def send(s: _socket.socket, line: bytes) -> None:
    """Sends the request line. A service that refuses a caller before it
    reads a request (a uid of no user, too many connections at once) has
    written its refusal and closed: sending then fails with EPIPE or
    ECONNRESET, and the refusal still waits to be read (read_line), so
    that is no error here."""
    try:
        s.sendall(line)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _class_socket() -> Optional[str]:
    """The class's socket when this path is sure one is in force; None sends
    the command to the full command line, which decides (and explains)."""
    if os.environ.get("V6LAB_CLASS", "").lower() in ("off", "0", "no"):
        return None
    env = os.environ.get("V6LAB_CLASS_SOCKET")
    if env:
        return env
    if os.getuid() == 0 or os.environ.get("V6LAB_OUTER_UID"):
        return None  # root, or inside a lab's user namespace: the full rules
    try:
        return DEFAULT_SOCKET if stat.S_ISSOCK(os.stat(DEFAULT_SOCKET).st_mode) else None
    except OSError:
        return None


_FORMATS = ("text", "json", "junit", "tap")


def _parse(argv: list[str]) -> Optional[tuple[Optional[str], dict[str, Any]]]:
    """(--lang, the check's options) if argv is a check this path takes."""
    args = list(argv)
    lang = None
    if args and args[0].startswith("--lang"):
        if args[0] == "--lang" and len(args) > 1:
            lang, args = args[1], args[2:]
        elif args[0].startswith("--lang="):
            lang, args = args[0][len("--lang="):], args[1:]
        else:
            return None
    if not args or args[0] != "check":
        return None
    opts: dict[str, Any] = {}
    rest = args[1:]
    while rest:
        tok = rest.pop(0)
        if tok in ("--verbose", "-v"):
            key, value = "verbose", True
        elif tok in ("--lab", "--format") and rest:
            key, value = tok[2:], rest.pop(0)
        elif tok.startswith(("--lab=", "--format=")):
            key, _eq, value = tok[2:].partition("=")
        else:
            return None
        if key in opts or (isinstance(value, str) and (not value or value.startswith("-"))):
            return None
        opts[key] = value
    if opts.get("format", "text") not in _FORMATS:
        return None
    if lang is not None and (not lang or lang.startswith("-")):
        return None
    return lang, opts


def main(argv: list[str]) -> Optional[int]:
    """The exit code of a check done here, or None: run the full command."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    lang, opts = parsed
    path = _class_socket()
    if path is None:
        return None
    if lang is not None:
        i18n.set_language(lang)
        os.environ[i18n.ENV_VAR] = lang if "\0" not in lang else i18n.SOURCE_LANGUAGE
    try:
        line = protocol.request("check", lang=language(), **check_args(
            opts.get("lab"), opts.get("format", "text"), bool(opts.get("verbose"))))
    except protocol.ProtocolError:
        return None  # the full command says what the service would refuse
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None  # nothing sent yet: the full command explains
    try:
        return _exchange(s, line)
    except KeyboardInterrupt:
        return _fail(i18n._("interrupted"), 130)
    finally:
        s.close()


def _exchange(s: _socket.socket, line: bytes) -> int:
    """Sends the request; prints the report the service drew."""
    try:
        send(s, line)
        ok, value, code = protocol.read_answer(read_line(s))
    except Unanswered as e:
        return _fail(str(e), e.code)
    except protocol.ProtocolError as e:
        return _fail(str(e), e.code)
    except OSError as e:
        return _fail(f"{e.strerror or e}", protocol.EXIT_FAILED)
    if not ok:
        return _fail(str(value), code)
    if not isinstance(value, dict) or not isinstance(value.get("output"), str):
        return _fail(i18n._("the classroom service sent no report: ask your instructor to "
                            "restart it (it may be older than this v6lab)"),
                     protocol.EXIT_INTERNAL)
    out = value["output"].encode(sys.stdout.encoding or "utf-8", errors="replace")
    try:
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `v6lab check | head`, as the full command does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return int(value.get("exit", protocol.EXIT_INTERNAL))


def _fail(message: str, code: int) -> int:
    print(f"v6lab: {message}", file=sys.stderr)
    return code
