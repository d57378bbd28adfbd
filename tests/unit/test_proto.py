"""The protocol codecs (v6lab.proto) on byte fixtures: no root, no lab.
Fixtures marked "captured" are packets a real program sent inside a lab
node, copied from the switch tap as hex: dhclient 4.4.3 (isc-dhcp-client)
and dnsmasq 2.90 on Debian 12, and dig 9.18."""

from __future__ import annotations

import ipaddress
import pathlib
import random
import re

import pytest

from v6lab.grading import wire as w
from v6lab.proto import ProtoError, dhcp6 as d, dns, ndp

# captured: `dhclient -6 -S eth0` (Information-Request, ORO 23 24 39 31)
DHCLIENT_INFO_REQUEST = bytes.fromhex(
    "0b7b23c60001000a000300015206eb08259d00060008001700180027001f000800020000")
# captured: dnsmasq --dhcp-range=::,constructor:eth0,ra-stateless answering it
DNSMASQ_REPLY = bytes.fromhex(
    "077b23c60001000a000300015206eb08259d0002000e0001000132a1fb4a965fce9c5dd2"
    "0018000d036c6162076578616d706c65000017001020010db8000100000000000000000053"
    "0020000400015180")
# captured: dig www.lab.example AAAA (EDNS with a cookie) and dnsmasq's answer
DIG_QUERY = bytes.fromhex(
    "ebfe0120000100000000000103777777036c6162076578616d706c6500001c0001000029"
    "04d000000000000c000a00082af975740fee9e74")
DNSMASQ_ANSWER = bytes.fromhex(
    "ebfe8580000100010000000103777777036c6162076578616d706c6500001c0001c00c00"
    "1c000100000000001020010db800010000000000000000008000002904d0000000000000")


# ----------------------------------------------------------------- DHCPv6

def test_dhclient_information_request_decodes():
    m = d.decode(DHCLIENT_INFO_REQUEST)
    assert (m.name, m.xid) == ("Information-Request", 0x7B23C6)
    assert m.option(d.ClientId).duid == d.DuidLl(1, "52:06:eb:08:25:9d")
    assert m.option(d.OptionRequest).codes == (23, 24, 39, 31)
    assert m.option(d.ElapsedTime).centiseconds == 0
    assert d.encode(m) == DHCLIENT_INFO_REQUEST


def test_dnsmasq_reply_decodes_and_reencodes_byte_for_byte():
    m = d.decode(DNSMASQ_REPLY)
    assert m.type == d.REPLY and m.xid == 0x7B23C6
    assert m.option(d.DnsServers).addresses == ("2001:db8:1::53",)
    assert m.option(d.DomainList).domains == ("lab.example.",)
    sid = m.option(d.ServerId).duid
    assert isinstance(sid, d.DuidLlt) and sid.lladdr == "96:5f:ce:9c:5d:d2"
    assert m.option(d.UnknownOption) == d.UnknownOption(32, bytes.fromhex("00015180"))  # refresh 1 d
    assert d.encode(m) == DNSMASQ_REPLY


def test_information_request_builder_matches_rfc_layout():
    m = d.information_request(d.DuidLl(1, "02:00:00:00:00:01"), xid=0x123456)
    assert d.encode(m) == bytes.fromhex("0b123456" "0001000a00030001020000000001"
                                        "00080002" "0000" "000600040017" "0018")


ALL_OPTIONS = d.Message(d.REPLY, 5, (
    d.ServerId(d.DuidLlt(1, 123, "aa:bb:cc:dd:ee:ff")),
    d.ClientId(d.DuidUuid("12345678-1234-5678-1234-567812345678")),
    d.ServerId(d.DuidEn(9, b"ab")),
    d.ClientId(d.DuidOther(99, b"zz")),
    d.IaNa(1, 10, 20, (d.IaAddr("2001:db8::5", 100, 200, (d.StatusCode(0, "ok"),)),)),
    d.IaPd(2, 0, 0, (d.IaPrefix(1, 2, "2001:db8:100::/56"),)),
    d.OptionRequest((23, 24)), d.ElapsedTime(7), d.Preference(255), d.RapidCommit(),
    d.DnsServers(("2001:db8::53", "2001:db8::54")), d.DomainList(("a.example.", "b.example.")),
    d.SolMaxRt(3600), d.InfMaxRt(60), d.StatusCode(2, "NoAddrsAvail"),
    d.UnknownOption(999, b"x")))


@pytest.mark.parametrize("kind", [d.SOLICIT, d.ADVERTISE, d.REQUEST, d.CONFIRM, d.RENEW,
                                  d.REBIND, d.REPLY, d.RELEASE, d.DECLINE, d.RECONFIGURE,
                                  d.INFORMATION_REQUEST])
def test_every_message_type_round_trips(kind):
    m = d.Message(kind, 0xABCDEF, ALL_OPTIONS.options)
    assert d.decode(d.encode(m)) == m


def test_relay_messages_nest():
    inner = d.solicit(d.DuidLl(1, "02:00:00:00:00:01"), ia_pd=True, rapid_commit=True, xid=1)
    fw = d.RelayMessage(d.RELAY_FORW, 0, "2001:db8:1::1", "fe80::2",
                        (d.InterfaceId(b"eth0"), d.RelayMsg(inner)))
    rp = d.RelayMessage(d.RELAY_REPL, 1, "::", "fe80::2", (d.RelayMsg(fw),))
    back = d.decode(d.encode(rp))
    assert back == rp and back.inner().inner() == inner and back.name == "Relay-Repl"
    assert d.message_type("relay-forw") == d.RELAY_FORW


@pytest.mark.parametrize("hexbytes, where", [
    ("", "empty"),
    ("07", "transaction id"),
    ("07000005001700051234", "option 23 (DNS_SERVERS) body"),
    ("0700000500170002abcd", "not a multiple of 16"),
    ("07000005000e0001ff", "RAPID_COMMIT"),
    ("0700000500080001ff", "ELAPSED_TIME"),
    ("070000050018000303616263", "label"),
    ("0700000500010001ff", "DUID type"),
    ("0c00", "link-address"),
    ("0700000500030004000000", "IA_NA"),
    ("07000005001a0019" + "00" * 8 + "81" + "00" * 16, "prefix length 129"),
])
def test_malformed_dhcp6_raises_protoerror(hexbytes, where):
    with pytest.raises(ProtoError, match=re.escape(where)):
        d.decode(bytes.fromhex(hexbytes))


def test_dhcp6_fuzz_only_protoerror():
    """Mutated and truncated messages never raise anything but ProtoError."""
    rng = random.Random(7)
    seed = d.encode(d.RelayMessage(d.RELAY_FORW, 0, "::", "fe80::2", (d.RelayMsg(ALL_OPTIONS),)))
    for _ in range(3000):
        b = bytearray(seed)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            d.decode(bytes(b[:rng.randrange(len(b) + 1)]))
        except ProtoError:
            pass


# -------------------------------------------------------------------- DNS

def test_dig_query_and_dnsmasq_answer():
    q = dns.decode(DIG_QUERY)
    assert q.questions == (dns.Question("www.lab.example.", "AAAA"),) and not q.response
    assert q.additional[0].type == "OPT"
    r = dns.decode(DNSMASQ_ANSWER)
    assert r.response and r.authoritative and r.rcode_name == "NOERROR" and r.id == q.id
    assert [(a.name, a.type, a.data) for a in r.answers] == [
        ("www.lab.example.", "AAAA", "2001:db8:1::80")]      # name via pointer c00c


def test_dns_round_trip_with_compression():
    m = dns.Message(0x1234, True, 0, True, False, True, True, 0,
                    (dns.Question("www.example.net.", "AAAA"),),
                    (dns.Record("www.example.net.", "CNAME", 60, "web.example.net."),
                     dns.Record("web.example.net.", "AAAA", 60, "2001:db8::80"),
                     dns.Record("web.example.net.", "A", 60, "192.0.2.1"),
                     dns.Record("1.0.0.0.ip6.arpa.", "PTR", 60, "web.example.net."),
                     dns.Record("example.net.", "TXT", 60, (b"hello", b"w"))),
                    (dns.Record("example.net.", "SOA", 300,
                                dns.Soa("ns1.example.net.", "admin.example.net.", 1, 2, 3, 4, 5)),
                     dns.Record("example.net.", "NS", 300, "ns1.example.net.")))
    b = dns.encode(m)
    assert dns.decode(b) == m
    assert b.count(b"\x07example\x03net") == 1          # every later copy is a pointer


@pytest.mark.parametrize("hexbytes, where", [
    ("1234", "flags"),
    ("123401000001000000000000c00c", "bad compression pointer"),     # points at itself... loop
    ("12340100000100000000000003777777", "label"),
    ("1234010000010000000000004100", "label type"),
    ("123481800000000100000000" "00" "001c0001" "0000003c" "0004" "01020304", "AAAA data is 4"),
])
def test_malformed_dns_raises_protoerror(hexbytes, where):
    with pytest.raises(ProtoError, match=where):
        dns.decode(bytes.fromhex(hexbytes))


def test_dns_fuzz_only_protoerror():
    rng = random.Random(8)
    for _ in range(3000):
        b = bytearray(DNSMASQ_ANSWER)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            dns.decode(bytes(b[:rng.randrange(len(b) + 1)]))
        except ProtoError:
            pass


# -------------------------------------------------------------------- NDP

def test_ra_round_trip_with_rdnss_dnssl_and_wire_names_unchanged():
    ra = ndp.RouterAdvert(64, True, True, 1800, 0, 0,
                          (ndp.PrefixInfo("2001:db8:10::/64", True, False, 86400, 14400),),
                          ("2001:db8::53",), 3600, 1400, "12:e1:e2:4d:0c:c3", ("lab.example.",))
    icmp = ndp.encode_ra(ra)
    assert ndp.parse_ra(icmp) == ra == ndp.decode_ra(icmp)
    f = w.frame(ra.source_lladdr, "fe80::1", "ff02::1", icmp)
    assert w.decode(f).body == ra
    assert w.RouterAdvert is ndp.RouterAdvert and w.decode_ra is ndp.decode_ra


def test_ra_strict_and_lenient():
    bad = ndp.encode_ra(ndp.RouterAdvert(64, False, False, 0, 0, 0)) + bytes([3, 0])
    assert ndp.decode_ra(bad) is not None                # lenient, as a kernel is
    with pytest.raises(ProtoError, match="length 0"):
        ndp.parse_ra(bad)
    with pytest.raises(ProtoError):
        ndp.parse_ra(bytes([134, 0, 0]))


def test_pref64_round_trip_and_every_length_code():
    # RFC 8781 4: the lifetime travels in units of 8 s, the length as a code.
    for plen in (96, 64, 56, 48, 40, 32):
        net = str(ipaddress.IPv6Network(("64:ff9b::", plen)))
        ra = ndp.RouterAdvert(64, False, False, 1800, 0, 0, pref64=(ndp.Pref64(net, 1800),))
        icmp = ndp.encode_ra(ra)
        assert ndp.parse_ra(icmp) == ra == ndp.decode_ra(icmp)
    opt = ndp.encode_pref64("64:ff9b::/96", 1801)
    assert opt[:2] == bytes([38, 2]) and (opt[2] << 8 | opt[3]) >> 3 == 226 and len(opt) == 16
    assert ndp.encode_pref64("64:ff9b::/96", 10 ** 6)[2:4] == bytes([0xFF, 0xF8])   # 65528 s
    with pytest.raises(ValueError, match="the length must be one of 32, 40, 48, 56, 64, 96"):
        ndp.encode_pref64("64:ff9b::/95", 600)


def test_pref64_from_the_v6lab_ra_seed_and_an_undefined_code():
    seeds = pathlib.Path(__file__).parents[1] / "fuzz" / "corpus" / "ra"
    ra = ndp.parse_ra((seeds / "v6lab-ra-pref64.bin").read_bytes())
    assert ra.pref64 == (ndp.Pref64("64:ff9b::/96", 32),) and ra.rdnss == ("2001:db8:1::1",)
    odd = (seeds / "pref64-undefined-code.bin").read_bytes()
    # A host ignores an option with PLC 6 or 7 (RFC 8781 5); the strict parser says so.
    assert ndp.decode_ra(odd).pref64 == (ndp.Pref64("64:ff9b::/32", 1800),)
    with pytest.raises(ProtoError, match="prefix length code 7 is undefined"):
        ndp.parse_ra(odd)


def test_router_advert_frame_carries_pref64():
    f = w.router_advert("02:00:00:00:00:01", "fe80::1", router_lifetime=1800,
                        pref64=[w.Pref64("2001:db8:64::/96", 600)])
    assert w.decode(f).body.pref64 == (w.Pref64("2001:db8:64::/96", 600),)


def test_ip6_text_writes_what_ipaddress_writes() -> None:
    """The codecs write addresses with inet_ntop (fast) where it agrees with
    ipaddress: every kind of zero run, and the IPv4-tailed forms it would
    write differently."""
    import ipaddress
    import random

    from v6lab.proto.errors import ip6_text
    rng = random.Random(16)
    samples = [bytes(16), bytes(15) + b"\1", b"\xfe\x80" + bytes(14),
               bytes(10) + b"\xff\xff\xc0\x00\x02\x01", bytes(12) + b"\xc0\x00\x02\x01",
               bytes(12) + b"\0\0\0\2", b"\x00\x64\xff\x9b" + bytes(8) + b"\xc0\x00\x02\x01"]
    for _ in range(5000):
        words = [rng.choice((0, 0, 0, 1, 0xffff, rng.randrange(65536))) for _ in range(8)]
        samples.append(b"".join(w.to_bytes(2, "big") for w in words))
    wrong = [b.hex() for b in samples if ip6_text(b) != str(ipaddress.IPv6Address(b))]
    assert not wrong, wrong[:5]
    with pytest.raises(ValueError):
        ip6_text(b"\0" * 15)


def test_mac_str_writes_what_the_kernel_writes() -> None:
    from v6lab.proto.ndp import mac_bytes, mac_str
    for b in (bytes(6), b"\x02\x00\x5e\x10\x00\x01", bytes(range(250, 256)), b"\xab"):
        assert mac_str(b) == ":".join(f"{x:02x}" for x in b)
        assert mac_bytes(mac_str(b)) == b
