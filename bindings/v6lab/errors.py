"""Every error v6lab raises, in one place, each with the exit code the
command line gives it (docs/cli.md). The core's errors keep their kind and
errno across the C++/Python boundary: KernelError and SocketError are also
OSErrors with the kernel's errno.

    Error                      1  the operation failed (base of all)
      SpecError                3  a topology, image or lab is invalid
      MissingBinaryError       5  a program a node needs is not installed
      KernelError              1  the kernel refused an operation (OSError)
      SocketError              1  a socket in a node could not be opened (OSError)
      NodeFileError            1  a node's file could not be read from outside
      UsageError               2  the command asked for something ambiguous
        ProviderNodeError      2  a trainee asked to enter a provided node
        NotOwnerError          2  only the lab's owner process can do that
      NeedsRootError           4  this host allows no user namespaces
      UnsupportedKernelError   7  the lab needs a kernel feature missing here
      UsernsUnavailableError   8  the host refuses what rootless mode needs
"""

from __future__ import annotations

import re

from ._core import Error, KernelError, MissingBinaryError, NodeFileError, SocketError, SpecError
from .i18n import _

__all__ = ["Error", "SpecError", "MissingBinaryError", "KernelError", "SocketError",
           "NodeFileError", "UsageError", "ProviderNodeError", "NotOwnerError", "NeedsRootError",
           "UnsupportedKernelError", "UsernsUnavailableError", "exit_code", "message"]


class UsageError(Error):
    """The command line asked for something ambiguous or not allowed (several
    labs and no --lab, say)."""

    exit_code = 2


class ProviderNodeError(UsageError):
    """A trainee asked to enter a node the lab provides (the ISP)."""


class NotOwnerError(UsageError):
    """Something only the process that built a lab can do (start it, time
    its bring-up, read its resource limits), asked of a lab found through
    its record (a RunningLab)."""


class NeedsRootError(Error):
    """Building a lab needs root here: the host allows no user namespaces."""

    exit_code = 4


class UnsupportedKernelError(Error):
    """The lab needs a kernel feature this machine does not have."""

    exit_code = 7


class UsernsUnavailableError(Error):
    """The host does not let this user create user namespaces (or map ids):
    one sentence with the fix; `v6lab doctor` shows every prerequisite."""

    exit_code = 8


_CORE_CODES = {SpecError: 3, MissingBinaryError: 5}


def exit_code(e: BaseException) -> int:
    """The exit code of the command line for an error (1 when it has none)."""
    for cls, code in _CORE_CODES.items():
        if isinstance(e, cls):
            return code
    return int(getattr(e, "exit_code", 1))


# The core's sentence for a missing program (core/src/lab.cpp), one a line.
_MISSING = re.compile(r"program '(?P<program>[^']+)' is not installed; (?P<nodes>.+) need\(s\) "
                      r"it: install the Debian package (?P<package>\S+) \(apt-get install \S+\)")


def _missing_binaries(text: str) -> str:
    """The core's missing-program lines in the trainee's language (each
    line it does not recognise stays as it is)."""
    def one(line: str) -> str:
        m = _MISSING.fullmatch(line)
        if not m:
            return line
        return _("program '{program}' is not installed; {nodes} need(s) it: install the Debian "
                 "package {package} (apt-get install {package})").format(**m.groupdict())
    return "\n".join(one(line) for line in text.splitlines())


def message(e: BaseException) -> str:
    """The error's one sentence (an OSError's message without "[Errno N]")."""
    if isinstance(e, OSError) and isinstance(e, Error) and e.strerror:
        return str(e.strerror)
    if isinstance(e, MissingBinaryError):
        return _missing_binaries(str(e))
    return str(e.args[0] if isinstance(e, SpecError) and e.args else e)
