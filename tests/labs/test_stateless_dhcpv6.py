"""Attacks on lab 5's own checks (labs/stateless-dhcpv6/checks.py): what a
trainee who is root in a node could try, and the proof that it fails.

The three-way test (test_labs.py) already covers a hand-written
/etc/resolv.conf on the phone (mistake resolv-conf-by-hand, failed by
follows_rdnss). Here: a DHCPv6 server faked on another node, and a DNS
answer faked inside the host itself."""

from __future__ import annotations

import pytest

from v6lab.course import load_labs

LAB = load_labs()["stateless-dhcpv6"]
# Loaded as a package by load_labs (docs/writing-labs.md: The folder).
from v6lab_labs.stateless_dhcpv6.solution import dnsmasq_conf, wait_slaac  # noqa: E402


def step_check(step_id: str, index: int):
    return LAB.grader().step(step_id).checks[index]


def start(lab_factory):
    lab = lab_factory(LAB.topology(), name="attack5")
    LAB.initial_state(lab)
    return lab


def test_a_dhcpv6_server_on_another_node_is_not_r1(lab_factory):
    """h2 runs a perfect stateless DHCPv6 server (same options as the
    solution) while r1 runs none: h1 gets a right Reply, from the wrong
    cable."""
    lab = start(lab_factory)
    v = LAB.vars
    LAB.solution["radvd"](lab)
    lab["h2"].cmd(f"ip -6 addr add {v['r1_lan1_address'].replace('::1', '::99')}/64 dev eth0 nodad",
                  check=True)
    lab["h2"].cmd(["sh", "-c", "cat > /etc/dnsmasq.conf"],
                  input=dnsmasq_conf(lab), check=True)
    lab["h2"].cmd("dnsmasq", check=True)
    status, message, _ = step_check("dhcpv6", 1).run(lab)
    assert status == "fail", message
    assert "came in on h2's cable, not from r1" in message


def test_a_dns_answer_made_inside_the_host_does_not_count(lab_factory):
    """h1 names the right server in resolv.conf, holds that address itself
    (on lo) and answers www from a dnsmasq of its own: the answer never
    crosses ns1's cable."""
    lab = start(lab_factory)
    v = LAB.vars
    lab["h1"].cmd(["sh", "-c", "cat > /etc/resolv.conf"],
                  input=f"search {v['domain']}\nnameserver {v['dns']}\n", check=True)
    lab["h1"].cmd(f"ip -6 addr add {v['dns']}/128 dev lo && dnsmasq --port=53 --no-resolv "
                  f"--no-hosts --listen-address={v['dns']} --bind-interfaces "
                  f"--host-record=www.{v['domain']},{v['www']}", check=True)
    r = lab["h1"].dns_query(v["dns"], f"www.{v['domain']}", timeout=1)
    assert r.answered and [a.data for a in r.answers] == [v["www"]]   # the fake works
    status, message, _ = step_check("resolve", 0).run(lab)
    assert status == "fail", message
    assert "did not come in on ns1's cable" in message


@pytest.mark.parametrize("server_side", [True, False])
def test_resolution_through_the_real_server_passes(lab_factory, server_side):
    """The positive control of the attack above: the same resolv.conf with
    the real ns1 behind it (h1 needs a route, which the RA gives)."""
    lab = start(lab_factory)
    v = LAB.vars
    LAB.solution["radvd"](lab)
    wait_slaac(lab, "h1")
    text = f"nameserver {v['dns']}\n" if server_side else f"nameserver {v['www']}\n"
    lab["h1"].cmd(["sh", "-c", "cat > /etc/resolv.conf"], input=text, check=True)
    status, message, _ = step_check("resolve", 0).run(lab)
    if server_side:
        assert status == "pass", message
        assert "answer seen on ns1's cable" in message
    else:
        # Nothing listens at www's address: no answer at all.
        assert status == "fail" and "does not answer h1" in message, message
