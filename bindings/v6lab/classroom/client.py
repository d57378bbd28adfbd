"""The trainee's and the instructor's side of the classroom service: which
mode is in force, and one request per connection.

The mode is decided here, once, and every verb says which one it used:

  V6LAB_CLASS=off           self-started labs (practice: self-graded)
  V6LAB_CLASS_SOCKET=PATH   the class served on PATH
  otherwise                 the class if the default socket
                            (/run/v6lab-class/class.sock) exists and the
                            user is not root; else self-started labs

In a class, a service that does not answer is an error that says so: a
verb never falls back to a self-graded lab of the trainee's own.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import sys
from pathlib import Path
from typing import Any, Optional

from .._core import Error
from ..i18n import _
from . import protocol, quick

DEFAULT_SOCKET = Path(quick.DEFAULT_SOCKET)


class ClassError(Error):
    """The service refused, or could not be reached: one sentence, and the
    exit code the command leaves with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = code


def class_socket() -> Optional[Path]:
    """The socket of the class in force, or None for self-started labs."""
    if os.environ.get("V6LAB_CLASS", "").lower() in ("off", "0", "no"):
        return None
    env = os.environ.get("V6LAB_CLASS_SOCKET")
    if env:
        return Path(env)
    from ..userns import host_uid
    if host_uid() == 0:
        return None
    try:
        return DEFAULT_SOCKET if stat.S_ISSOCK(os.stat(DEFAULT_SOCKET).st_mode) else None
    except OSError:
        return None


def _connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.connect(str(path))
    except OSError as e:
        s.close()
        raise ClassError(_(
            "the classroom service at {socket} does not answer ({error}): ask your instructor; "
            "to practise on your own instead (self-graded), set V6LAB_CLASS=off").format(
                socket=path, error=e.strerror or e)) from None
    return s


def _read_line(s: socket.socket) -> bytes:
    try:
        return quick.read_line(s)
    except quick.Unanswered as e:
        raise ClassError(str(e), e.code) from None


def _request(op: str, **args: Any) -> bytes:
    """The request line, checked here as the service will check it: what
    the trainee typed that the service would refuse is a usage error."""
    try:
        return protocol.request(op, lang=quick.language(), **args)
    except protocol.ProtocolError as e:
        # TRANSLATORS: {problem} is the protocol's reason, in English
        # ("field args.lab: expected a name (letters, digits, . _ -)").
        raise ClassError(_("the classroom service would refuse this: {problem}").format(
            problem=str(e)), protocol.EXIT_USAGE) from None


def call(path: Path, op: str, **args: Any) -> Any:
    """One request; its result, or ClassError with the service's sentence."""
    line = _request(op, **args)
    with _connect(path) as s:
        quick.send(s, line)
        return _result(_read_line(s))


def _result(line: bytes) -> Any:
    try:
        ok, value, code = protocol.read_answer(line)
    except protocol.ProtocolError as e:
        raise ClassError(str(e), e.code) from None
    if not ok:
        raise ClassError(value, code)
    return value


def run_in_node(path: Path, op: str, **args: Any) -> int:
    """exec, shell or capture: this process's stdin, stdout and stderr go
    to the service, which runs the command in the node on them; the exit
    code is the command's. The terminal's settings are restored after,
    and size changes are passed on while it runs."""
    line = _request(op, **args)
    saved = _terminal_settings()
    with _connect(path) as s:
        try:
            socket.send_fds(s, [line], [0, 1, 2])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the request was read: the refusal is there (quick.send)

        def winch(*_a: Any) -> None:
            try:
                s.sendall(b'{"v": 2, "op": "winch"}\n')
            except OSError:
                pass
        old = signal.signal(signal.SIGWINCH, winch) if sys.stdin.isatty() else None
        try:
            result = _result(_read_line(s))
        finally:
            if old is not None:
                signal.signal(signal.SIGWINCH, old)
            _restore_terminal(saved)
    return int(result.get("exit", 1)) if isinstance(result, dict) else 1


def _terminal_settings() -> Any:
    if not sys.stdin.isatty():
        return None
    import termios
    try:
        return termios.tcgetattr(0)
    except termios.error:
        return None


def _restore_terminal(saved: Any) -> None:
    if saved is None:
        return
    import termios
    try:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
    except termios.error:
        pass
