"""The wire, SLAAC and DHCPv6 checks and the decoders speak the trainee's
language (issue 11, phase 2), and their English is what it always was.
No root needed: descriptions, problem phrases and decoder errors are built
without a lab (the live messages are asserted in English by test_dhcp6.py
and test_grading*.py, and in Vietnamese by tests/labs)."""

from __future__ import annotations

import ipaddress

import pytest

from v6lab import i18n
from v6lab.grading import behaviour, dhcp6 as d, dhcp6_relay as r, dhcp6_stateful as st
from v6lab.proto import ProtoError, dhcp6, ndp

VIETNAMESE = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def descriptions() -> list[str]:
    return [
        behaviour.router_advertises("r1", "eth1", prefixes=["2001:db8:1::/64"]).description,
        behaviour.slaac_autoconfigures("h1", "eth0").description,
        behaviour.reaches_on_wire("h1", "srv").description,
        d.dhcp6_information_reply("h1", server="srv", dns_servers=["2001:db8::53"]).description,
        d.dhcp6_seen_on_wire("lan1", "Solicit", from_node="h1").description,
        d.ra_flags_on_wire("lan1", managed=True, from_node="r1").description,
        st.dhcp6_offers_address("h1", "2001:db8:1::/64", server="srv").description,
        st.dhcp6_delegates_prefix("r2", "2001:db8:8::/48", 56).description,
        st.dhcp6_server_answers_relay("srv", "2001:db8:1::1", "2001:db8:1::/64",
                                      from_node="r1").description,
        r.dhcp6_relays("h1", "r1", "srv", pool="2001:db8:1::/64").description,
        r.dhcp6_relay_on_wire("r1", "srv", client="h1").description,
        r.dhcp6_reply_on_wire("h1", pool="2001:db8:1::/64").description,
    ]


def problems() -> list[str]:
    ra = ndp.RouterAdvert(64, True, False, 0, 0, 0,
                          (ndp.PrefixInfo("2001:db8:1::/64", True, False, 30, 20),))
    out = behaviour.ra_problems(ra, [ipaddress.ip_network("2001:db8:2::/64")], managed=False,
                                other=True, autonomous=True, default_router=True,
                                rdnss=["2001:db8::53"])
    duid = dhcp6.random_duid()
    reply = dhcp6.Message(dhcp6.REPLY, 1, (dhcp6.ClientId(duid),))
    out += st._lease_problems(reply, duid, dhcp6.IaNa, 7, st.Pool("2001:db8:1::/64"), None)[0]
    out += d._reply_problems(reply, ["2001:db8::53"], ["lab.example"])
    for data in (b"", b"\x01\x00\x00\x01\x00\x17\x00\x05abcde"):
        with pytest.raises(ProtoError) as e:
            dhcp6.decode(data)
        out.append(str(e.value))
    return out


def test_english_is_unchanged():
    with i18n.using("en"):
        got = descriptions() + problems()
    assert got[0] == ("r1 advertises on eth1 as a router (2001:db8:1::/64) (seen on its "
                      "switch port)")
    assert got[6] == ("a DHCPv6 server offers h1:eth0 an address from 2001:db8:1::/64 "
                      "(answers on srv's cable)")
    assert got[8] == ("a DHCPv6 server on srv gives an address from 2001:db8:1::/64 to a "
                      "client relayed from 2001:db8:1::1 (the grader relays from r1)")
    assert "M flag is 1" in got and "O flag is 0" in got
    assert "it has no IA_NA for the grader's IAID" in got
    assert got[-2] == "DHCPv6 message at offset 0: empty"
    assert got[-1] == ("DHCPv6 option 23 (DNS_SERVERS) at offset 8: length 5 is not a "
                       "multiple of 16")


def test_vietnamese_with_the_data_left_as_it_is():
    with i18n.using("en"):
        english = descriptions() + problems()
    with i18n.using("vi"):
        if i18n.language() != "vi":
            pytest.skip("the Vietnamese catalogue is not compiled (./scripts/setup)")
        vietnamese = descriptions() + problems()
    for en, vi in zip(english, vietnamese):
        assert vi != en and VIETNAMESE & set(vi.lower()), f"not Vietnamese: {vi}"
    # Names, addresses and protocol words come through as they are.
    assert "r1" in vietnamese[0] and "eth1" in vietnamese[0] and "2001:db8:1::/64" in vietnamese[0]
    assert "Solicit" in vietnamese[9] and "IA_NA" in " ".join(vietnamese)
    assert "DNS_SERVERS" in vietnamese[-1] and "23" in vietnamese[-1]
