#!/usr/bin/python3
"""Writes the seed corpus of the packet-decoder fuzzers (fuzz_ra, fuzz_dns,
fuzz_icmp6) into tests/fuzz/corpus/{ra,dns,icmp6}/, one file per packet.

The packets are the ones the grader's probes receive in the labs, written
out byte for byte as radvd, dnsmasq and the Linux kernel send them (the
option order and sizes are theirs), plus a few edge cases the decoders
must survive. Run it again after changing it and commit the files:

    tests/fuzz/make_seeds.py
"""
import ipaddress
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus"


def a6(text):
    return ipaddress.IPv6Address(text).packed


def a4(text):
    return ipaddress.IPv4Address(text).packed


def opt(kind, body):
    """An ND option: type, length in units of 8 bytes, body padded."""
    body += b"\0" * (-(len(body) + 2) % 8)
    return bytes([kind, (len(body) + 2) // 8]) + body


def names(*domains):
    out = b""
    for d in domains:
        for label in d.split("."):
            out += bytes([len(label)]) + label.encode()
        out += b"\0"
    return out


def ra(hop=64, flags=0, lifetime=1800, options=b""):
    return struct.pack("!BBHBBHII", 134, 0, 0, hop, flags, lifetime, 0, 0) + options


SLLA = opt(1, bytes.fromhex("020000000001"))
MTU = opt(5, b"\0\0" + struct.pack("!I", 1500))


def prefix(p, flags=0xC0, valid=86400, preferred=14400):
    net = ipaddress.IPv6Network(p)
    return opt(3, struct.pack("!BBIII", net.prefixlen, flags, valid, preferred, 0)
               + net.network_address.packed)


def route(p, pref=0, lifetime=1800):
    net = ipaddress.IPv6Network(p)
    size = 0 if net.prefixlen == 0 else 8 if net.prefixlen <= 64 else 16
    return opt(24, struct.pack("!BBI", net.prefixlen, pref << 3, lifetime)
               + net.network_address.packed[:size])


def rdnss(*servers, lifetime=600):
    return opt(25, b"\0\0" + struct.pack("!I", lifetime) + b"".join(a6(s) for s in servers))


def dnssl(*domains, lifetime=600):
    return opt(31, b"\0\0" + struct.pack("!I", lifetime) + names(*domains))


def pref64(p, lifetime=1800, plc=None):
    """RFC 8781: 13-bit lifetime in units of 8 s, 3-bit length code, 96 bits."""
    net = ipaddress.IPv6Network(p)
    code = (96, 64, 56, 48, 40, 32).index(net.prefixlen) if plc is None else plc
    return opt(38, struct.pack("!H", ((lifetime + 7) // 8) << 3 | code)
               + net.network_address.packed[:12])


RA_SEEDS = {
    # radvd for the slaac lab: prefix, then MTU, then source link-layer.
    "radvd-slaac": ra(options=prefix("2001:db8:1::/64") + MTU + SLLA),
    "radvd-rdnss-dnssl": ra(flags=0x40, options=prefix("2001:db8:1::/64") + SLLA
                            + rdnss("2001:db8:1::53", "2001:db8:2::53")
                            + dnssl("lab.example", "example")),
    "radvd-routes": ra(flags=0x08, options=SLLA + route("::/0", 1) + route("2001:db8::/32")
                       + route("2001:db8:2:3::/64", 3) + route("2001:db8:2:3:4::/80")),
    "managed-no-default": ra(flags=0xC0, lifetime=0, options=prefix("2001:db8:9::/64", 0x80)),
    "deprecated-prefix": ra(options=prefix("2001:db8:1::/64", preferred=0, valid=7200)),
    "zero-length-option": ra(options=SLLA + b"\x03\x00" + b"\0" * 30),
    "truncated-prefix": ra(options=prefix("2001:db8:1::/64"))[:40],
    "header-only": ra(),
    # v6lab-ra for the ipv6-mostly lab: prefix, RDNSS, PREF64, source link-layer.
    "v6lab-ra-pref64": ra(options=prefix("2001:db8:1::/64") + rdnss("2001:db8:1::1", lifetime=30)
                          + pref64("64:ff9b::/96", 30) + SLLA),
    "pref64-undefined-code": ra(options=pref64("2001:db8:64::/96", plc=7) + pref64("64:ff9b::/32")),
}

# ------------------------------------------------------------------ DNS


def dns(qname, qtype, answers, ident=0x1234, flags=0x8580, qd=1):
    """answers: bytes of the answer section, already compressed."""
    head = struct.pack("!HHHHHH", ident, flags, qd, len(answers), 0, 0)
    return head + names(qname) + struct.pack("!HH", qtype, 1) + b"".join(answers)


def rr(name_bytes, rtype, data, ttl=300):
    return name_bytes + struct.pack("!HHIH", rtype, 1, ttl, len(data)) + data


Q = b"\xc0\x0c"  # a pointer to the question's name
DNS_SEEDS = {
    # dnsmasq answering srv.lab AAAA: the answer's name points at the question.
    "dnsmasq-aaaa": dns("srv.lab", 28, [rr(Q, 28, a6("2001:db8:2::10"))]),
    "dnsmasq-a": dns("srv.lab", 1, [rr(Q, 1, a4("192.0.2.10"))]),
    # www.lab CNAME srv.lab (compressed against "lab" at byte 16), then its AAAA.
    "cname-chain": dns("www.lab", 28, [rr(Q, 5, b"\x03srv\xc0\x10"),
                                      rr(b"\xc0\x25", 28, a6("2001:db8:2::10"))]),
    "ptr": dns("0.1.0.0.2.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", 12, [rr(Q, 12, names("srv.lab"))]),
    "nxdomain": dns("nope.lab", 28, [], flags=0x8583),
    "servfail-truncated": dns("big.lab", 28, [], flags=0x8382),
    "txt-unknown-rdata": dns("srv.lab", 16, [rr(Q, 16, b"\x05hello")]),
    "pointer-loop": dns("x.lab", 28, [rr(b"\xc0\x22", 28, a6("::1"))]),
    "forward-pointer": dns("x.lab", 28, [rr(b"\xc0\x30", 28, a6("::1"))]),
    "answer-count-lies": dns("srv.lab", 28, [rr(Q, 28, a6("::1"))])[:-3],
    "header-only": struct.pack("!HHHHHH", 1, 0x8180, 0, 0, 0, 0),
}

# ---------------------------------------------------------------- ICMP


def ip6(next_header, src, dst, payload):
    return (struct.pack("!IHBB", 0x60000000, len(payload), next_header, 64)
            + a6(src) + a6(dst) + payload)


def ip4(proto, src, dst, payload):
    return (struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0)
            + a4(src) + a4(dst) + payload)


def echo(kind, ident=0x4242, seq=1, size=56):
    return struct.pack("!BBHHH", kind, 0, 0, ident, seq) + bytes(range(8, 8 + size))


def err6(kind, code, param, quoted):
    return struct.pack("!BBHI", kind, code, 0, param) + quoted


REQ6 = ip6(58, "2001:db8:1::10", "2001:db8:2::10", echo(128))
REQ4 = ip4(1, "192.0.2.1", "198.51.100.9", echo(8))
ICMP_SEEDS = {
    # ICMPv6 as the raw socket hands it over (no IPv6 header).
    "echo-reply6": echo(129),
    "no-route6": err6(1, 0, 0, REQ6),
    "addr-unreach6": err6(1, 3, 0, REQ6),
    "port-unreach6": err6(1, 4, 0, ip6(17, "2001:db8:1::10", "2001:db8:2::10",
                                     struct.pack("!HHHH", 40000, 53, 8, 0))),
    "packet-too-big6": err6(2, 0, 1280, REQ6),
    "hop-limit6": err6(3, 0, 0, REQ6),
    "param-problem6": err6(4, 0, 6, REQ6),
    "quote-cut6": err6(3, 0, 0, REQ6[:44]),
    # IPv4: the raw socket includes the IP header.
    "echo-reply4": ip4(1, "198.51.100.9", "192.0.2.1", echo(0)),
    "frag-needed4": ip4(1, "192.0.2.254", "192.0.2.1",
                        struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + REQ4[:28]),
    "ttl-exceeded4": ip4(1, "192.0.2.254", "192.0.2.1", struct.pack("!BBHI", 11, 0, 0, 0) + REQ4),
}


def main():
    for sub, seeds in (("ra", RA_SEEDS), ("dns", DNS_SEEDS), ("icmp6", ICMP_SEEDS)):
        d = OUT / sub
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.bin"):
            old.unlink()
        for name, data in seeds.items():
            (d / f"{name}.bin").write_bytes(data)
        print(f"{d}: {len(seeds)} packets")


if __name__ == "__main__":
    main()
