"""The offline Internet (v6lab.internet) on real namespaces with Debian's
nsd, unbound, nginx and tayga: names resolve by iterative resolution from
its own root, each content server answers only over the families it has,
a lab's delegated zone is asked of the lab's own server, and the NAT64
translates to its pool (the IPv4-only server sees a pool address)."""

from __future__ import annotations

import ipaddress
import shutil

import pytest

from v6lab import Topo
from v6lab.errors import Error
from v6lab.internet import DEFAULTS, Internet

pytestmark = pytest.mark.skipif(
    any(shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin") is None
        for p in ("nsd", "unbound", "nginx", "tayga")),
    reason="needs nsd, unbound, nginx-light and tayga (scripts/setup installs them)")

V = DEFAULTS
NO_DAD = {"net.ipv6.conf.default.accept_dad": 0, "net.ipv6.conf.all.accept_dad": 0}


def office(inet: Internet) -> Topo:
    """pc on the lab's LAN, with a name server of its own for corp.example."""
    t = Topo("inet-test")
    t.add_lan("wan")
    t.add_host("pc", sysctls=NO_DAD)
    t.add_link("pc", "wan", addrs_a=["2001:db8:ff00::2/64", "198.51.100.2/24"])
    t.add_route("pc", "default", via="2001:db8:ff00::1")
    t.add_route("pc", "default", via="198.51.100.1")
    inet.add_to(t, uplink="wan", v6="2001:db8:ff00::1/64", v4="198.51.100.1/24",
                delegate={"corp.example": ["2001:db8:ff00::2"]})
    return t


@pytest.fixture
def world(lab_factory):
    inet = Internet(nat64=True)
    lab = lab_factory(office(inet))
    try:
        inet.start(lab)
    except Error as e:
        if "tun" in str(e).lower():
            pytest.skip(f"no TUN device for tayga here: {e}")
        raise
    return inet, lab


def answers(lab, server, name, qtype):
    r = lab["pc"].dns_query(server, name, qtype, timeout=2)
    assert r.answered, r.error
    return sorted(a.data for a in r.answers if a.type == qtype)


def get(lab, addr, path="/"):
    r = lab["pc"].tcp_connect(addr, 80, timeout=2, send=f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n")
    return r.ok, r.received.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip(), r.error


def test_names_resolve_from_the_internets_own_root(world):
    _inet, lab = world
    for resolver in (V["inet_resolver6"], V["inet_resolver4"]):
        assert answers(lab, resolver, V["inet_v4only"], "A") == [V["inet_v4only4"]]
        assert answers(lab, resolver, V["inet_v4only"], "AAAA") == []
        assert answers(lab, resolver, V["inet_dual"], "AAAA") == [V["inet_dual6"]]
        assert answers(lab, resolver, V["inet_v6only"], "AAAA") == [V["inet_v6only6"]]
    ptr = ipaddress.ip_address(V["inet_v6only6"]).reverse_pointer
    assert answers(lab, V["inet_resolver6"], ptr, "PTR") == [V["inet_v6only"]]
    assert answers(lab, V["inet_resolver6"], "40.113.0.203.in-addr.arpa", "PTR") == [V["inet_v4only"]]
    # RFC 7050's well-known name, the same from the authoritative server.
    assert answers(lab, V["inet_ns6"], "ipv4only.arpa", "A") == ["192.0.0.170", "192.0.0.171"]


def test_each_server_answers_only_over_its_own_families(world):
    _inet, lab = world
    assert get(lab, V["inet_v4only4"])[:2] == (True, "hello from v4only.example.net")
    assert get(lab, V["inet_dual4"])[:2] == (True, "hello from dual.example.net")
    assert get(lab, V["inet_dual6"], "/whoami")[:2] == (True, "2001:db8:ff00::2")
    assert get(lab, V["inet_v6only6"])[:2] == (True, "hello from v6only.example.net")
    assert not lab["v4only"].addresses("eth0", 6), "the IPv4-only server has IPv6 switched off"
    assert not lab["v6only"].addresses("eth0", 4)
    assert get(lab, V["inet_v4only4"], "/nothing")[1] == "not found"


def test_a_delegated_zone_is_asked_of_the_labs_own_server(world):
    _inet, lab = world
    # Before pc serves corp.example the resolver has no answer...
    r = lab["pc"].dns_query(V["inet_resolver6"], "www.corp.example", "AAAA", timeout=1.5)
    assert not r.answered or r.rcode != "NOERROR" or not r.answers
    # ...then pc's own dnsmasq answers, found through the root's delegation.
    lab["pc"].cmd("dnsmasq --port=53 --no-resolv --no-hosts --bind-interfaces "
                  "--listen-address=2001:db8:ff00::2 --auth-server=ns1.corp.example "
                  "--auth-zone=corp.example --host-record=www.corp.example,2001:db8:ff00::80 "
                  "--pid-file=/run/dnsmasq.pid", check=True)
    assert answers(lab, V["inet_resolver6"], "www.corp.example", "AAAA") == ["2001:db8:ff00::80"]


def test_the_nat64_maps_clients_into_its_pool(world):
    _inet, lab = world
    v = world[0].variables
    synth = answers(lab, v["inet_dns64"], V["inet_v4only"], "AAAA")
    assert synth == ["2001:db8:64::cb00:7128"]            # 203.0.113.40 in the NAT64 prefix
    assert answers(lab, v["inet_dns64"], V["inet_dual"], "AAAA") == [V["inet_dual6"]]  # real AAAA kept
    ok, body, err = get(lab, synth[0], "/whoami")
    assert ok, err
    assert ipaddress.ip_address(body) in ipaddress.ip_network(v["inet_nat64_pool"])


def test_starting_twice_names_the_node_and_the_daemons_words(world):
    inet, lab = world
    with pytest.raises(Error) as e:
        inet.start(lab)
    assert "the offline Internet did not start" in str(e.value)
    assert "v4only:" in str(e.value) and "in use" in str(e.value)
