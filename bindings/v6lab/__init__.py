"""v6lab: a scriptable IPv6 training lab on real Linux networking.

The public vocabulary is small on purpose (it follows Mininet's):

    from v6lab import Lab, Topo

    class Small(Topo):
        def build(self):
            lan = self.add_lan("lan1")
            r1 = self.add_router("r1")
            for n in (r1, self.add_host("h1"), self.add_host("h2")):
                self.add_link(n, lan)

    with Lab(Small()) as lab:
        print(lab["h1"].cmd("ping -6 -c1 -W2 2001:db8:1::20").returncode)

Everything that touches the kernel lives in the C++ core (``v6lab._core``);
this package models topologies, runs commands and keeps lab records.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing only for type checkers: see v6lab.i18n

# Each name of the vocabulary is imported from its module when it is first
# used (PEP 562), not when v6lab is: a command that only talks to the
# classroom service (a trainee's `v6lab check` in a class) then never loads
# the lab machinery, and thirty of them at once cost the server a third of
# the CPU they did. `from v6lab import Lab` works as before.
_WHERE = {
    **dict.fromkeys(("Error", "KernelError", "MissingBinaryError", "NeedsRootError",
                     "NotOwnerError", "SocketError", "SpecError", "UsageError"), "errors"),
    **dict.fromkeys(("CmdResult", "Lab", "LabView", "Node", "NodeProcess", "RunningLab",
                     "wait_until"), "lab"),
    **dict.fromkeys(("Topo", "load_topology"), "topo"),
}

if TYPE_CHECKING:
    from typing import Any

    from .errors import (Error, KernelError, MissingBinaryError, NeedsRootError, NotOwnerError,
                         SocketError, SpecError, UsageError)
    from .lab import CmdResult, Lab, LabView, Node, NodeProcess, RunningLab, wait_until
    from .topo import Topo, load_topology


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'v6lab' has no attribute '{name}'")
    import importlib  # here: `import v6lab` alone must stay cheap (see above)
    value = getattr(importlib.import_module(f".{where}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "KernelError", "NeedsRootError", "NotOwnerError", "SocketError", "UsageError",
    "CmdResult",
    "Error",
    "Lab",
    "LabView",
    "MissingBinaryError",
    "Node",
    "NodeProcess",
    "RunningLab",
    "SpecError",
    "Topo",
    "load_topology",
    "wait_until",
]
__version__ = "0.1.0"
