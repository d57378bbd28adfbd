"""Shared fixtures. Every test that builds a lab goes through lab_factory
(v6lab.pytest_plugin), which stops it even when the test fails; the host
snapshot taken here at start is compared by test_zz_leaks.py at the end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings"))
# The suite asserts English messages: a tester's own locale (LANG=vi_VN.UTF-8)
# must not change them. Tests of other languages set theirs (test_i18n.py,
# tests/labs/test_labs.py); child processes inherit this.
os.environ["V6LAB_LANG"] = "en"
# The suite's labs are its own, also on a server where a classroom service
# listens on the default socket (docs/classroom.md); test_classroom.py turns
# the class on for the commands it runs as trainees.
os.environ["V6LAB_CLASS"] = "off"

from v6lab import Topo  # noqa: E402
from v6lab import _core  # noqa: E402
from v6lab import userns  # noqa: E402

# Run by an unprivileged user (tests/python/test_rootless.py does that for
# the escape suite and the lab tests), the suite works as v6lab does without
# root: inside a user namespace of its own, entered before any thread.
ROOTLESS = os.geteuid() != 0
if ROOTLESS:
    ROOTLESS_MAPPING = userns.enter()

pytest_plugins = ["v6lab.pytest_plugin"]


def host_links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def netns_inodes() -> set[str]:
    """Network namespaces any process on the machine is in."""
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.add(os.readlink(f"/proc/{pid}/ns/net"))
            except OSError:
                pass
    return out


def v6lab_processes() -> set[int]:
    """PIDs of every v6lab-init and v6lab-nsexec on the machine."""
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm in ("v6lab-init", "v6lab-nsexec"):
                out.add(int(pid))
    return out


SNAPSHOT = {
    "links": host_links(),
    "netns": netns_inodes(),
    "procs": v6lab_processes(),
    "named_netns": set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set(),
}


@pytest.fixture(scope="session")
def snapshot() -> dict:
    return SNAPSHOT


class Small(Topo):
    """The example of the runtime issue: a LAN with r1, h1, h2 and a
    point-to-point link r1 <-> h3. r1 and h3 are addressed and h3 routes
    through r1; h1 and h2 start bare, as in the issue's example."""

    def build(self) -> None:
        lan = self.add_lan("lan1")
        r1 = self.add_router("r1")
        for n in (r1, self.add_host("h1"), self.add_host("h2")):
            self.add_link(n, lan)
        self.add_host("h3")
        self.add_link(r1, "h3")  # point-to-point veth
        self.set_interface("r1", "eth0", addresses=["2001:db8:1::1/64"])
        self.set_interface("r1", "eth1", addresses=["2001:db8:2::1/64"])
        self.set_interface("h3", "eth0", addresses=["2001:db8:2::30/64"])
        self.add_route("h3", "default", via="2001:db8:2::1")


@pytest.fixture
def small() -> Small:
    return Small()


def need_namespaces() -> None:
    why = _core.namespace_support()
    if why:
        pytest.skip(why)
