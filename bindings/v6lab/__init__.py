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

from .errors import (Error, KernelError, MissingBinaryError, NeedsRootError, NotOwnerError,
                     SocketError, SpecError, UsageError)
from .lab import CmdResult, Lab, LabView, Node, NodeProcess, RunningLab, wait_until
from .topo import Topo, load_topology

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
