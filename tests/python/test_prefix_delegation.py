"""The prefix-delegation lab (labs/prefix-delegation) against the attack
its checks are for, on real namespaces with the real Kea, dhcpcd and
radvd: a trainee who types the prefix Kea would delegate, without asking
for it, scores nothing for the delegation, the LANs or the RAs; the very
same addresses pass once the CPE has really asked. The three-way test
(fresh, solution, mistakes) is tests/labs."""

from __future__ import annotations

import dataclasses

from v6lab.course import find_lab
from v6lab.grading import Grader


def ungated(d):
    return Grader([dataclasses.replace(s, gated=False) for s in d.steps()])


def test_a_guessed_prefix_is_not_a_delegation(lab_factory):
    d = find_lab("prefix-delegation")
    lab = lab_factory(d.topology(), name=d.id)
    d.initial_state(lab)
    d.solution["wan"](lab)
    cpe = lab["cpe"]
    # Kea delegates 2001:db8:3000::/56 first: the trainee guesses it, types
    # the LANs, and forges dhcpcd's reject route; radvd advertises them.
    for cmd in ("ip -6 route add unreachable 2001:db8:3000::/56 dev lo proto dhcp",
                "ip -6 addr add 2001:db8:3000:1::1/64 dev eth1",
                "ip -6 addr add 2001:db8:3000:2::1/64 dev eth2"):
        cpe.cmd(cmd, check=True)
    cpe.wait_addresses_ready()
    d.solution["radvd"](lab)
    grader = ungated(d)
    report = grader.grade(lab, upto="radvd")
    for step in ("pd", "lans"):
        assert report.step(step).status == "fail", report.to_json()
        assert "no delegated prefix for cpe" in report.step(step).message
    radvd = report.step("radvd")
    assert radvd.status == "fail" and "no delegated prefix for cpe" in radvd.message

    # The same addresses, once the CPE has asked the ISP for real.
    cpe.cmd("ip -6 route del unreachable 2001:db8:3000::/56 dev lo", check=True)
    d.solution["pd"](lab)
    report = d.grader().grade(lab, upto="radvd")
    assert [s.status for s in report.steps] == ["pass"] * 4, report.to_json()
    assert "the ISP delegated 2001:db8:3000::/56 to cpe" in report.steps[1].checks[0].message
