"""Attacks on lab 6's own checks (labs/stateful-dhcpv6/checks.py): what a
trainee who is root in h1 or r1 could try instead of doing the work. Each
must leave its check failed, with a message that says what was seen.
tests/labs/test_labs.py covers the lab's fresh, solved and mistaken runs."""

from __future__ import annotations

import pytest

from v6lab.course import load_labs

D = load_labs()["stateful-dhcpv6"]


@pytest.fixture
def lab(lab_factory):
    lab = lab_factory(D.topology(), name="l6-attack")
    D.initial_state(lab)
    return lab


def check(lab, step: str, description_part: str):
    """The result of the step's check whose description contains the text."""
    report = D.grader().grade(lab, upto=step)
    s = report.step(step)
    return next(c for c in s.checks if description_part in c.description)


def solve_upto(lab, last: str) -> None:
    for s in D.steps():
        D.solution[s.id](lab)
        if s.id == last:
            return


def _radvd_copy(lab) -> None:
    from v6lab_labs.stateful_dhcpv6.solution import radvd_conf
    r1 = lab["r1"]
    r1.cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=radvd_conf(lab), check=True)
    r1.cmd("cp /usr/sbin/radvd /tmp/radvd && /tmp/radvd -C /etc/radvd.conf", check=True)


def test_copied_radvd_fails_and_the_wire_probe_is_not_tried(lab):
    """A copy of the radvd binary sends the right RA, but daemon_running
    wants the real one: the wire probe behind it (after) is not tried, so
    the step fails at once and its second check says why."""
    _radvd_copy(lab)
    report = D.grader().grade(lab, upto="ra")
    ra = report.step("ra")
    assert ra.status == "fail" and ra.earned == 0, report.to_json()
    daemon, wire = ra.checks
    assert daemon.status == "fail" and "radvd" in daemon.message
    assert wire.status == "fail" and wire.message.startswith("not tried yet: ")
    assert wire.duration < 0.1 and ra.duration < 0.2, report.to_json()


def test_hand_written_address_in_the_pool_has_no_lease(lab):
    """An address from the pool added by hand with lifetimes looks like a
    DHCPv6 client's (dynamic), but the server holds no lease for it."""
    solve_upto(lab, "relay")
    lab["h1"].cmd("ip -6 addr add 2001:db8:10::150/128 dev eth0 valid_lft 3600 "
                  "preferred_lft 3600 nodad", check=True)
    r = check(lab, "hosts", "holds a DHCPv6 lease for h1")
    assert r.status == "fail"
    assert "dhcp holds no lease for 2001:db8:10::150 of h1:eth0" in r.message, r.message
    assert check(lab, "hosts", "h1:eth0 has an address").status == "pass"


def test_permanent_address_in_the_pool_is_not_leased(lab):
    solve_upto(lab, "relay")
    lab["h1"].cmd("ip -6 addr add 2001:db8:10::151/128 dev eth0 nodad", check=True)
    r = check(lab, "hosts", "h1:eth0 has an address")
    assert r.status == "fail"
    assert "2001:db8:10::151 on h1:eth0 was added by hand (permanent)" in r.message, r.message


def test_h2s_lease_taken_by_h1_is_not_h1s(lab):
    """h2 leases an address for real; h1 takes the same address by hand.
    The server's lease names h2's MAC in its DUID, not h1's."""
    from v6lab import wait_until
    from v6lab_labs.stateful_dhcpv6.solution import DHCLIENT
    solve_upto(lab, "relay")
    h2 = lab["h2"]
    h2.wait_addresses_ready("eth0")
    h2.cmd(DHCLIENT, check=True)
    got = wait_until(lambda: [a.address for a in h2.addresses("eth0", 6)
                              if a.scope == "global" and a.prefix_len == 128
                              and not a.tentative], 10,
                     what="h2's DHCPv6 address, past DAD (a thief during DAD makes h2 decline it)")
    # DAD would refuse a duplicate: the thief skips it, as a forger would.
    lab["h1"].cmd(f"ip -6 addr add {got[0]}/128 dev eth0 valid_lft 3600 preferred_lft 3600 "
                  "nodad", check=True)
    r = check(lab, "hosts", "holds a DHCPv6 lease for h1")
    assert r.status == "fail"
    mac = h2.link("eth0").mac.lower()
    assert f"dhcp leased {got[0]} to another client" in r.message and mac in r.message, r.message
    r2 = check(lab, "hosts", "holds a DHCPv6 lease for h2")
    assert r2.status == "pass", r2.message
