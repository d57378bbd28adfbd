"""The pmtud lab's own checks (labs/pmtud/pmtuchecks.py) without a lab:
the random probe addresses, and which Packet Too Big frames count as "the
one the provider sent" (the wire evidence of the ptb step). The checks run
on the real lab in tests/labs and are attacked in
tests/python/test_pmtud_checks.py (same checks, real lab)."""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import struct
from pathlib import Path

from v6lab.course import load_lab
from v6lab.grading import Grader
from v6lab.grading import wire as w
from v6lab.testing import FakeLab

ROOT = Path(__file__).resolve().parents[2]
D = load_lab(ROOT / "labs" / "pmtud")
pm = importlib.import_module("v6lab_labs.pmtud.pmtuchecks")  # loaded with D
ISP, PC, PROBE = "2001:db8:f0::1", "2001:db8:10::10", "2001:db8:81::1:2"


def ptb(src: str, mtu: int, quoted_hop_limit: int = 63) -> bytes:
    """A Packet Too Big to pc quoting pc's echo request to PROBE."""
    quoted = (struct.pack("!IHBB", 6 << 28, 1460, 58, quoted_hop_limit)
              + ipaddress.IPv6Address(PC).packed + ipaddress.IPv6Address(PROBE).packed
              + bytes([128, 0, 0, 0]) + b"\0" * 1184)
    return w.frame("02:00:00:00:00:01", src, PC, bytes([2, 0, 0, 0]) + struct.pack("!I", mtu)
                   + quoted, dst_mac="02:00:00:00:00:02", hop_limit=64)


class FakeTap:
    """What _Evidence reads of a _RawTap: the frames seen and their bytes."""

    def __init__(self) -> None:
        self.seen: list[w.Seen] = []
        self.raw: dict[int, bytes] = {}

    def add(self, frame: bytes, ifname: str, node: str, outgoing: bool,
            injected: bool = False) -> None:
        s = w.Seen(0.0, ifname, node, outgoing, injected, w.decode(frame))
        self.raw[id(s)] = frame[54:]
        self.seen.append(s)


def evidence(tap: FakeTap):
    return pm._Evidence(tap, PROBE, "isp", "l0p0")


def test_random_addresses_are_in_the_prefix_and_never_the_anycast_one():
    prefix = D.vars["service_prefix"]
    got = {pm.random_address(prefix) for _ in range(50)}
    assert len(got) == 50
    net = ipaddress.IPv6Network(prefix)
    assert all(ipaddress.IPv6Address(a) in net and ipaddress.IPv6Address(a) != net[0]
               for a in got)


def test_the_providers_ptb_delivered_unchanged_is_genuine():
    tap = FakeTap()
    tap.add(ptb(ISP, 1400), "l1p1", "isp", outgoing=False)     # in on isp's port
    tap.add(ptb(ISP, 1400), "l0p0", "pc", outgoing=True)       # out to pc
    ev = evidence(tap)
    assert len(ev.sent) == 1 and len(ev.genuine) == 1


def test_a_ptb_made_up_on_the_way_is_not_genuine():
    """Same source, MTU and quoted destination as isp's, but quoting the
    packet as r1 saw it (hop limit 64, not 63): the bytes differ."""
    tap = FakeTap()
    tap.add(ptb(ISP, 1400), "l1p1", "isp", outgoing=False)
    tap.add(ptb(ISP, 1400, quoted_hop_limit=64), "l0p0", "pc", outgoing=True)
    ev = evidence(tap)
    assert ev.sent and ev.delivered and not ev.genuine


def test_frames_the_grader_injected_and_other_probes_are_not_evidence():
    tap = FakeTap()
    tap.add(ptb(ISP, 1400), "l1p1", "isp", outgoing=False, injected=True)
    tap.add(ptb(ISP, 1400), "l0p0", "pc", outgoing=True)
    ev = evidence(tap)
    assert not ev.sent and not ev.genuine
    other = pm._Evidence(tap, "2001:db8:81::99", "isp", "l0p0")
    assert not other.delivered


def test_a_ptb_from_r1_itself_is_not_the_providers():
    tap = FakeTap()
    tap.add(ptb("2001:db8:10::1", 1400), "l0p1", "r1", outgoing=False)
    tap.add(ptb("2001:db8:10::1", 1400), "l0p0", "pc", outgoing=True)
    ev = evidence(tap)
    assert not ev.sent and ev.delivered and not ev.genuine


def test_no_check_passes_on_a_fake_lab():
    """Ungated, on FakeLab (the starting state, no wire, no probes): every
    check fails or is a grader error, none passes."""
    fake = FakeLab.from_lab(D)
    ungated = Grader([dataclasses.replace(s, gated=False) for s in D.steps()])
    report = ungated.grade(fake)
    statuses = {c.description: c.status for s in report.steps for c in s.checks}
    assert len(statuses) == 6 and "pass" not in statuses.values(), statuses
    assert report.step("diagnose").status == "fail"
