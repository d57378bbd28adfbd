"""The offline Internet's generated configuration (v6lab.internet), without
root: reverse zones on nibble and octet boundaries, delegations that reach
the root zone, and bad delegations refused with the field named."""

from __future__ import annotations

import pytest

from v6lab import Topo
from v6lab._core import SpecError
from v6lab.internet import DEFAULTS, NODES, Internet, configs


def test_reverse_zones_cut_on_nibbles_and_octets():
    assert configs.reverse_zone("2001:db8:f00::/64") == "0.0.0.0.0.0.f.0.8.b.d.0.1.0.0.2.ip6.arpa."
    assert configs.reverse_zone("2001:db8:100::/48") == "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa."
    assert configs.reverse_zone("203.0.113.0/25") == "113.0.203.in-addr.arpa."
    assert configs.reverse_name("2001:db8:f00::46").startswith("6.4.0.0.0.0.0.0")


def _built(**kw) -> tuple[Internet, Topo]:
    inet, t = Internet(**kw.pop("internet", {})), Topo("t")
    t.add_lan("wan")
    inet.add_to(t, uplink="wan", v6="2001:db8:ff00::1/64", v4="198.51.100.1/24", **kw)
    return inet, t


def test_delegated_zones_are_in_the_root_zone_with_glue():
    inet, _t = _built(delegate={"corp.example": ["2001:db8:100::53", "192.0.2.53"],
                                "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa": {"ns1.corp.example": ["2001:db8:100::53"]}})
    root = inet.files()["dns"]["/etc/v6lab-internet/zones/root.zone"]
    assert "corp.example. IN NS ns1.corp.example." in root
    assert "ns1.corp.example. IN AAAA 2001:db8:100::53" in root
    assert "ns1.corp.example. IN A 192.0.2.53" in root
    assert "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. IN NS ns1.corp.example." in root


def test_every_server_has_forward_and_reverse_records():
    inet, _t = _built()
    files = inet.files()["dns"]
    fwd = files["/etc/v6lab-internet/zones/example.net.zone"]
    for name, addr in (("v4only", DEFAULTS["inet_v4only4"]), ("dual", DEFAULTS["inet_dual6"]),
                       ("v6only", DEFAULTS["inet_v6only6"])):
        assert f"{name}.example.net. IN {'A' if '.' in addr else 'AAAA'} {addr}" in fwd
    assert "AAAA" not in fwd.split("v4only.example.net.")[1].split("\n")[0]
    rev6 = files["/etc/v6lab-internet/zones/0.0.0.0.0.0.f.0.8.b.d.0.1.0.0.2.ip6.arpa.zone"]
    assert "IN PTR v6only.example.net." in rev6
    assert "192.0.0.170" in files["/etc/v6lab-internet/zones/ipv4only.arpa.zone"]
    conf = files["/etc/v6lab-internet/nsd.conf"]
    assert conf.count("zone:") == 5 and 'name: "."' in conf


def test_nodes_and_variables_follow_the_options():
    inet, t = _built()
    assert inet.nodes == NODES and "inet_dns64" not in inet.variables
    nat, _t = _built(internet={"nat64": True})
    assert nat.nodes[-1] == "nat64" and "nat64" in nat.files()
    assert "dns64-prefix: 2001:db8:64::/96" in nat.files()["nat64"]["/etc/v6lab-internet/unbound.conf"]
    listen = inet.files()["v4only"]["/etc/v6lab-internet/nginx.conf"]
    assert "listen 80;" in listen and "[::]" not in listen


@pytest.mark.parametrize("delegate, field, words", [
    ({"corp..example": ["2001:db8::53"]}, "internet.delegate.corp..example", "not a DNS zone name"),
    ({"corp.example": ["2001:db8::zz"]}, "internet.delegate.corp.example.ns1.corp.example", "not an IP address"),
    ({"corp.example": []}, "internet.delegate.corp.example.ns1.corp.example", "one or more addresses"),
    ({"corp.example": {"-bad.corp.example": ["2001:db8::53"]}}, "internet.delegate.corp.example",
     "not a name server's name"),
])
def test_a_bad_delegation_names_its_field(delegate, field, words):
    with pytest.raises(SpecError) as e:
        _built(delegate=delegate)
    assert field in str(e.value) and words in str(e.value)
