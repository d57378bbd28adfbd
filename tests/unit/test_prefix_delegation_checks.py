"""The prefix-delegation lab's own checks (labs/prefix-delegation/pdchecks.py)
on fake state: how Kea's lease file is read, and what a trainee could type
on the CPE to fake a delegation. The real lab (Kea, dhcpcd, radvd) is
graded in tests/labs and tests/python/test_prefix_delegation.py."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest

from v6lab.course import load_lab
from v6lab.testing import FakeLab

ROOT = Path(__file__).resolve().parents[2]
D = load_lab(ROOT / "labs" / "prefix-delegation")
pdchecks = importlib.import_module("v6lab_labs.prefix_delegation.pdchecks")  # loaded with D
HEADER = ("address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,"
          "prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,"
          "hwaddr_source\n")


def row(address, length, *, hwaddr, valid=4000, expire=None, lease_type=2, state=0, iaid=1):
    expire = int(time.time()) + 3000 if expire is None else expire
    return (f"{address},00:01:00:01:aa,{valid},{expire},1,3000,{lease_type},{iaid},{length},"
            f"0,0,,{hwaddr},{state},,1,2\n")


@pytest.fixture
def lab():
    fake = FakeLab.from_lab(D)
    return fake


def mac(lab) -> str:
    return lab["cpe"].link("eth0").mac


def grade(lab, check) -> tuple[str, str]:
    status, message, _ = check.with_options(within=0).run(lab)
    return status, message


def delegated(lab, text: str) -> None:
    lab["isp"].files[pdchecks.LEASE_FILE] = HEADER + text


def test_last_row_of_a_lease_is_its_state(lab):
    m = mac(lab)
    delegated(lab, row("2001:db8:3000::", 56, hwaddr=m)
              + row("2001:db8:3000::", 56, hwaddr=m, valid=0)             # released: deleted
              + row("2001:db8:3000:100::", 56, hwaddr=m, expire=1000)     # expired long ago
              + row("2001:db8:3000:200::", 56, hwaddr=m, state=1)         # declined
              + row("2001:db8:ff00:1::99", 128, hwaddr=m, lease_type=0)   # an address, not PD
              + row("2001:db8:3000:300::", 56, hwaddr=m))
    got = [str(d.prefix) for d in pdchecks.active_delegations(lab, "isp")]
    assert got == ["2001:db8:3000:300::/56"]


def test_a_64_is_named_as_such(lab):
    delegated(lab, row("2001:db8:3f00::", 64, hwaddr=mac(lab)))
    status, message = grade(lab, pdchecks.prefix_delegated("isp", "cpe", "eth0", 56, str))
    assert status == "fail"
    assert "delegated 2001:db8:3f00::/64 to cpe, not a /56" in message


def test_another_routers_lease_is_not_the_cpes(lab):
    delegated(lab, row("2001:db8:3000::", 56, hwaddr="02:00:00:00:99:99"))
    status, message = grade(lab, pdchecks.prefix_delegated("isp", "cpe", "eth0", 56, str))
    assert status == "fail" and "no delegated prefix for cpe" in message


def test_no_lease_file_yet_fails_and_is_no_error(lab):
    status, message = grade(lab, pdchecks.prefix_delegated("isp", "cpe", "eth0", 56, str))
    assert status == "fail" and "no delegated prefix" in message


def test_hand_numbered_lan_without_a_lease_fails(lab):
    """The attack: the trainee guesses the prefix Kea gives first, types it
    on the LANs and writes dhcpcd's reject route by hand. Nothing at the
    ISP says it was delegated, so nothing passes."""
    cpe = lab["cpe"]
    cpe.add_address("eth1", "2001:db8:3000:1::1/64")
    cpe.add_address("eth2", "2001:db8:3000:2::1/64")
    cpe.add_route("2001:db8:3000::/56", dev="lo", type="unreachable", protocol="dhcp")
    for check in (pdchecks.prefix_delegated("isp", "cpe", "eth0", 56, str),
                  pdchecks.lan_numbered("isp", "cpe", "eth0", "eth1", ["eth2"], 56, str)):
        status, message = grade(lab, check)
        assert status == "fail" and "no delegated prefix for cpe" in message, message


def test_lan_inside_the_delegation_passes_and_overlap_fails(lab):
    delegated(lab, row("2001:db8:3000:100::", 56, hwaddr=mac(lab)))
    cpe = lab["cpe"]
    cpe.add_address("eth1", "2001:db8:3000:101::1/64")
    cpe.add_address("eth2", "2001:db8:ff00:2::1/64")       # next to the WAN prefix
    ok = pdchecks.lan_numbered("isp", "cpe", "eth0", "eth1", ["eth2"], 56, str)
    wrong = pdchecks.lan_numbered("isp", "cpe", "eth0", "eth2", ["eth1"], 56, str)
    assert grade(lab, ok) == ("pass", "cpe:eth1 is numbered from 2001:db8:3000:101::/64")
    status, message = grade(lab, wrong)
    assert status == "fail" and "2001:db8:ff00:2::1/64, which is not a /64 inside" in message
    cpe.remove_address("eth2", "2001:db8:ff00:2::1/64")
    cpe.add_address("eth2", "2001:db8:3000:101::2/64")      # the same /64 twice
    status, message = grade(lab, wrong)
    assert status == "fail" and "both numbered from 2001:db8:3000:101::/64" in message


def test_the_isps_route_must_go_to_the_cpe(lab):
    delegated(lab, row("2001:db8:3000::", 56, hwaddr=mac(lab)))
    check = pdchecks.isp_routes_delegation("isp", "cpe", "eth0", 56, str)
    status, message = grade(lab, check)
    assert status == "fail" and "no route to 2001:db8:3000::/56" in message
    ll = next(a.address for a in lab["cpe"].addresses("eth0", 6) if a.scope == "link")
    lab["isp"].add_route("2001:db8:3000::/56", via=ll, dev="eth0", protocol="dhcp")
    assert grade(lab, check) == ("pass", "the ISP routes 2001:db8:3000::/56 via cpe:eth0")
