#!/usr/bin/python3
"""Writes a corpus of bad topology files into a directory, with what the
error about each must say.

Usage: make_bad_inputs.py DIR

DIR/expected.json maps each file name to {"fragments": [...], "images":
optional image directory name}. Every fragment (a field path, a few words
of the message) must appear in the error v6lab prints for that file. The
corpus is generated at test time (tests/python/test_bad_input.py) and never
committed: some entries are FIFOs, symlinks to devices, or 5 MiB files.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional

Expected = dict[str, Any]


class Corpus:
    """Collects files and their expected error fragments."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.expected: dict[str, Expected] = {}

    def raw(self, name: str, data: bytes, *fragments: str, images: Optional[str] = None) -> None:
        (self.root / name).write_bytes(data)
        self.add(name, fragments, images)

    def add(self, name: str, fragments: tuple[str, ...], images: Optional[str] = None) -> None:
        assert name not in self.expected, name
        entry: Expected = {"fragments": list(fragments)}
        if images:
            entry["images"] = images
        self.expected[name] = entry

    def spec(self, name: str, spec: Any, *fragments: str) -> None:
        """The same bad spec as JSON and as YAML: both readers must agree."""
        self.raw(f"{name}.json", json.dumps(spec).encode(), *fragments)
        self.raw(f"{name}.yaml", json.dumps(spec).encode(), *fragments)  # JSON is YAML

    def finish(self) -> None:
        (self.root / "expected.json").write_text(json.dumps(self.expected, indent=1))


def base() -> dict[str, Any]:
    """Two hosts on one link: a:eth0 <-> b:eth0."""
    return {"nodes": {"a": {}, "b": {}}, "links": [{"endpoints": ["a", "b"]}]}


def with_iface(**settings: Any) -> dict[str, Any]:
    s = base()
    s["nodes"]["a"]["interfaces"] = {"eth0": settings}
    return s


def with_endpoint(**settings: Any) -> dict[str, Any]:
    s = base()
    s["links"][0]["endpoints"][0] = {"node": "a", **settings}
    return s


def with_routes(*routes: dict[str, Any]) -> dict[str, Any]:
    s = with_iface(addresses=["2001:db8::1/64", "192.0.2.1/24"])
    s["nodes"]["a"]["routes"] = list(routes)
    return s


def with_sysctl(key: str, value: Any) -> dict[str, Any]:
    s = base()
    s["nodes"]["a"]["sysctls"] = {key: value}
    return s


def ifname_cases(c: Corpus) -> None:
    bad = {"all": "is reserved", "default": "is reserved", "lo": "is reserved",
           "dot": "is reserved", "dotdot": "is reserved", "pct": "may not contain",
           "slash": "may not contain", "space": "may not contain", "tab": "may not contain",
           "uml": "may not contain", "long": "1 to 15 bytes", "empty": "1 to 15 bytes",
           "pattern": "may not contain"}
    names = {"all": "all", "default": "default", "lo": "lo", "dot": ".", "dotdot": "..",
             "pct": "e%d", "slash": "e/0", "space": "e 0", "tab": "e\t0", "uml": "ethü",
             "long": "x" * 16, "empty": "", "pattern": "eth%d"}
    for key, name in names.items():
        s = base()
        s["links"][0]["endpoints"][0] = {"node": "a", "interface": name}
        c.spec(f"ifname-endpoint-{key}", s, "links[0].endpoints[0]", bad[key])
        if name:
            s = base()
            s["nodes"]["a"]["interfaces"] = {name: {}}
            c.spec(f"ifname-section-{key}", s, "nodes.a.interfaces.", bad[key])


def mac_cases(c: Corpus) -> None:
    macs = {"zero": ("00:00:00:00:00:00", "all-zero"), "multicast": ("01:00:5e:00:00:01", "multicast"),
            "broadcast": ("ff:ff:ff:ff:ff:ff", "multicast"), "short": ("02:00:00:00:01", "must be a MAC"),
            "long": ("02:00:00:00:00:00:01", "must be a MAC"), "dashes": ("02-00-00-00-00-01", "must be a MAC"),
            "nothex": ("0g:00:00:00:00:01", "must be a MAC"), "int": (123456, "must be a MAC"),
            "huge": ("02" * 100000, "too long")}
    for key, (mac, words) in macs.items():
        c.spec(f"mac-iface-{key}", with_iface(mac=mac), "nodes.a.interfaces.eth0.mac", words)
        c.spec(f"mac-endpoint-{key}", with_endpoint(mac=mac), "links[0].endpoints[0].mac", words)


def address_cases(c: Corpus) -> None:
    addrs = {"default": ("::/0", "unspecified"), "unspec": ("::/64", "unspecified"),
             "loop": ("::1/128", "loopback"), "mcast": ("ff02::1/64", "multicast"),
             "mcast8": ("ff00::/8", "multicast"), "v4mcast": ("224.0.0.1/24", "multicast"),
             "v4mcast2": ("239.255.0.1/8", "multicast"), "v4zero": ("0.0.0.0/8", "unspecified"),
             "v4bcast": ("255.255.255.255/32", "broadcast"), "nolen": ("2001:db8::1", "no prefix length"),
             "len129": ("2001:db8::1/129", "out of range"), "len33": ("192.0.2.1/33", "out of range"),
             "garbage": ("not-an-address/64", "not an IPv6 or IPv4"), "int": (42, "must be a string"),
             "hugelen": ("2001:db8::1/" + "9" * 500, "invalid prefix length"),
             "huge": ("1" * 4000 + "/64", "not an IPv6 or IPv4"),
             "toolong": ("1" * 200000 + "/64", "too long")}
    for key, (a, words) in addrs.items():
        c.spec(f"addr-iface-{key}", with_iface(addresses=[a]), "nodes.a.interfaces.eth0.addresses[0]", words)
        c.spec(f"addr-endpoint-{key}", with_endpoint(addresses=[a]),
               "links[0].endpoints[0].addresses[0]", words)
    c.spec("addr-twice", with_iface(addresses=["2001:db8::1/64", "2001:db8::1/64"]),
           "nodes.a.interfaces.eth0.addresses[1]", "listed twice")
    c.spec("addr-not-list", with_iface(addresses="2001:db8::1/64"),
           "nodes.a.interfaces.eth0.addresses", "must be a list")


def route_cases(c: Corpus) -> None:
    f = "nodes.a.routes"
    cases: dict[str, tuple[list[dict[str, Any]], str, str]] = {
        "dup": ([{"dst": "2001:db8:9::/64", "via": "2001:db8::2"},
                 {"dst": "2001:db8:9::/64", "via": "2001:db8::3"}], f"{f}[1].dst", "already given by"),
        "dup-default": ([{"dst": "default", "via": "2001:db8::2"},
                         {"dst": "::/0", "dev": "eth0"}], f"{f}[1].dst", "already given by"),
        "dup-v4": ([{"dst": "198.51.100.0/24", "via": "192.0.2.2"},
                    {"dst": "198.51.100.0/24", "dev": "eth0", "metric": 0}], f"{f}[1].dst", "already given"),
        "gw-unspec": ([{"dst": "default", "via": "::"}], f"{f}[0].via", "unspecified"),
        "gw-loop": ([{"dst": "default", "via": "::1"}], f"{f}[0].via", "loopback"),
        "gw-mcast": ([{"dst": "default", "via": "ff02::2"}], f"{f}[0].via", "multicast"),
        "gw-v4mcast": ([{"dst": "0.0.0.0/0", "via": "224.0.0.9"}], f"{f}[0].via", "multicast"),
        "gw-v4zero": ([{"dst": "0.0.0.0/0", "via": "0.0.0.0"}], f"{f}[0].via", "unspecified"),
        "gw-v4loop": ([{"dst": "0.0.0.0/0", "via": "127.0.0.1"}], f"{f}[0].via", "loopback"),
        "gw-len": ([{"dst": "default", "via": "2001:db8::2/64"}], f"{f}[0].via", "without a prefix"),
        "hostbits": ([{"dst": "2001:db8::1/64", "dev": "eth0"}], f"{f}[0].dst", "host bits"),
        "family": ([{"dst": "2001:db8:9::/64", "via": "192.0.2.2"}], f"{f}[0].via", "address family"),
        "ll-nodev": ([{"dst": "default", "via": "fe80::1"}], f"{f}[0].dev", "needs dev"),
        "nodst": ([{"via": "2001:db8::2"}], f"{f}[0].dst", "missing"),
        "neither": ([{"dst": "default"}], f"{f}[0]", "needs via"),
        "metric-neg": ([{"dst": "default", "dev": "eth0", "metric": -1}], f"{f}[0].metric", "0 to 4294967295"),
        "metric-big": ([{"dst": "default", "dev": "eth0", "metric": 4294967296}], f"{f}[0].metric", "0 to"),
        "metric-float": ([{"dst": "default", "dev": "eth0", "metric": 1.5}], f"{f}[0].metric", "0 to"),
        "dev-ghost": ([{"dst": "default", "dev": "eth9"}], f"{f}[0].dev", "no interface eth9"),
        "unknown-key": ([{"dst": "default", "dev": "eth0", "gw": "x"}], f"{f}[0].gw", "unknown key"),
        "not-object": (["default"], f"{f}[0]", "must be an object"),
    }
    for key, (routes, field, words) in cases.items():
        c.spec(f"route-{key}", with_routes(*routes), field, words)


def mtu_cases(c: Corpus) -> None:
    s = base()
    s["links"][0]["mtu"] = 1279
    c.spec("mtu-link-1279", s, "links[0].mtu", "below 1280")
    c.spec("mtu-iface-1000", with_iface(mtu=1000), "nodes.a.interfaces.eth0.mtu", "below 1280")
    c.spec("mtu-endpoint-1200", with_endpoint(mtu=1200), "links[0].endpoints[0].mtu", "below 1280")
    s = {"nodes": {"a": {}}, "lans": {"l": {"mtu": 576}}, "links": [{"endpoints": ["a", "l"]}]}
    c.spec("mtu-lan-576", s, "lans.l.mtu", "below 1280")
    for key, v in {"67": 67, "65536": 65536, "neg": -1, "str": "1500", "float": 1500.5,
                   "bool": True, "big": 2 ** 63}.items():
        c.spec(f"mtu-iface-bad-{key}", with_iface(mtu=v), "nodes.a.interfaces.eth0.mtu", "68 to 65535")
    c.spec("mtu-iface-huge", with_iface(mtu=10 ** 30), "nodes.a.interfaces.eth0.mtu", "out of range")


def sysctl_cases(c: Corpus) -> None:
    key = "net.ipv6.conf.all.forwarding"
    f = f"nodes.a.sysctls.{key}"
    values = {"u64max": (18446744073709551615, "does not fit the kernel's int"),
              "int-max1": (2147483648, "does not fit"), "int-min1": (-2147483649, "does not fit"),
              "nul": ("1\x00", "control character"), "newline": ("1\n0", "control character"),
              "bool": (True, "not true or false"), "float": (1.5, "string or an integer"),
              "list": ([1], "string or an integer"), "long": ("1" * 4096, "at most 4095"),
              "toolong": ("1" * 5000, "too long")}
    for k, (v, words) in values.items():
        c.spec(f"sysctl-value-{k}", with_sysctl(key, v), f, words)
    keys = {"kernel": ("kernel.panic", "per-namespace"), "bare": ("net.", "per-namespace"),
            "dotdot": ("net..ipv6", "per-namespace"), "slash": ("net.ipv6/conf", "per-namespace"),
            "trailing": ("net.ipv6.", "per-namespace"), "newline": ("net.ipv6\n.x", "printable"),
            "nul": ("net.ipv6\x00x", "printable"), "space": ("net.ipv6 x", "printable"),
            "ghost-iface": ("net.ipv6.conf.eth7.accept_ra", "no interface eth7"),
            "long": ("net." + "x" * 252, "printable"), "toolong": ("net." + "x" * 300, "too long")}
    for k, (sk, words) in keys.items():
        c.spec(f"sysctl-key-{k}", with_sysctl(sk, 1), "nodes.a.sysctls.", words)
    s = base()
    s["nodes"]["a"]["sysctls"] = ["net.ipv6.conf.all.forwarding=1"]
    c.spec("sysctl-not-object", s, "nodes.a.sysctls", "must be an object")


def name_and_structure_cases(c: Corpus) -> None:
    for key, name in {"digit": "1abc", "long": "a" * 33, "space": "a b", "uml": "häst",
                      "empty": "", "big": "n" * 200, "nul": "a\x00b", "newline": "a\nb"}.items():
        c.spec(f"name-node-{key}", {"nodes": {name: {}}}, "nodes.", "must start with a letter")
        c.spec(f"name-lab-{key}", {"name": name, "nodes": {"a": {}}}, "name", "must start with a letter")
    c.raw("name-node-huge.json", json.dumps({"nodes": {"n" * 100000: {}}}).encode(), "nodes.n",
          "too long")
    c.raw("name-lab-huge.yaml", ("name: " + "n" * 100000 + "\nnodes: {a: {}}\n").encode(), "name",
          "too long")
    c.spec("name-lab-int", {"name": 7, "nodes": {"a": {}}}, "name", "must be a string")
    c.spec("lan-is-node", {"nodes": {"a": {}}, "lans": {"a": {}}}, "lans.a", "already the name of a node")
    c.spec("image-unknown", {"nodes": {"a": {"image": "hostt"}}}, "nodes.a.image", "unknown image")
    c.spec("image-int", {"nodes": {"a": {"image": 1}}}, "nodes.a.image", "must be the name")
    for where, spec, field in [
            ("top", {"nodes": {"a": {}}, "colour": 1}, "colour"),
            ("node", {"nodes": {"a": {"colour": 1}}}, "nodes.a.colour"),
            ("iface", with_iface(colour=1), "nodes.a.interfaces.eth0.colour"),
            ("link", {**base(), "links": [{"endpoints": ["a", "b"], "colour": 1}]}, "links[0].colour"),
            ("lan", {"nodes": {"a": {}}, "lans": {"l": {"colour": 1}}}, "lans.l.colour"),
            ("endpoint", with_endpoint(colour=1), "links[0].endpoints[0].colour")]:
        c.spec(f"unknown-key-{where}", spec, field, "unknown key")
    c.spec("top-list", [{"nodes": {}}], "must be", "mapping")
    c.spec("top-string", "nodes", "must be", "mapping")
    c.spec("nodes-empty", {"nodes": {}}, "nodes", "non-empty")
    c.spec("nodes-list", {"nodes": ["a"]}, "nodes", "non-empty")
    c.spec("node-list", {"nodes": {"a": [1]}}, "nodes.a", "must be an object")
    c.spec("links-object", {"nodes": {"a": {}}, "links": {"x": 1}}, "links", "must be a list")
    c.spec("lans-list", {"nodes": {"a": {}}, "lans": ["l"]}, "lans", "must be an object")
    for n, eps in {"one": ["a"], "three": ["a", "b", "a"], "none": []}.items():
        c.spec(f"endpoints-{n}", {**base(), "links": [{"endpoints": eps}]}, "links[0].endpoints",
               "exactly two")
    c.spec("endpoint-ghost", {**base(), "links": [{"endpoints": ["a", "ghost"]}]},
           "links[0].endpoints[1]", "neither a node nor a LAN")
    c.spec("endpoint-int", {**base(), "links": [{"endpoints": ["a", 5]}]}, "links[0].endpoints[1]",
           "must be")
    lan2 = {"nodes": {"a": {}}, "lans": {"l": {}, "m": {}}, "links": [{"endpoints": ["l", "m"]}]}
    c.spec("lan-to-lan", lan2, "links[0].endpoints", "cannot join two LANs")
    lan_if = {"nodes": {"a": {}}, "lans": {"l": {}}, "links": [{"endpoints": ["a", "l:eth0"]}]}
    c.spec("lan-with-iface", lan_if, "links[0].endpoints[1]", "LAN endpoint takes no")
    reuse = {"nodes": {"a": {}, "b": {}, "c": {}},
             "links": [{"endpoints": ["a:eth0", "b"]}, {"endpoints": ["a:eth0", "c"]}]}
    c.spec("iface-reused", reuse, "links[1].endpoints[0]", "already used by")
    ghost = base()
    ghost["nodes"]["a"]["interfaces"] = {"eth5": {}}
    c.spec("iface-ghost", ghost, "nodes.a.interfaces.eth5", "no interface eth5")
    both = with_iface(mac="02:00:00:00:00:01")
    both["links"][0]["endpoints"][0] = {"node": "a", "mac": "02:00:00:00:00:02"}
    c.spec("mac-both", both, "nodes.a.interfaces.eth0.mac", "also set on its link")
    many = {"nodes": {f"{i}bad": {} for i in range(3)}}
    c.spec("several-problems", many, "3 problems", "nodes.0bad")
    lots = {"nodes": {f"n{i}": {"image": "nope"} for i in range(2000)}}
    c.spec("thousands-of-problems", lots, "problems", "more")


def reader_cases(c: Corpus) -> None:
    good = b'{"nodes": {"a": {}}}'
    c.raw("enc-utf16le.json", "\ufeff".encode("utf-16-le") + good.decode().encode("utf-16-le"),
          "UTF-16", "UTF-8")
    c.raw("enc-utf16be.yaml", "\ufeff".encode("utf-16-be") + good.decode().encode("utf-16-be"),
          "UTF-16", "UTF-8")
    c.raw("enc-utf32.json", good.decode().encode("utf-32"), "UTF-32")
    c.raw("enc-utf16-nobom.json", good.decode().encode("utf-16-le"), "NUL byte at byte 1")
    c.raw("enc-latin1.yaml", "nodes: {h\xe4st: {}}".encode("latin-1"), "not UTF-8 at byte 9")
    c.raw("enc-latin1.json", '{"nodes": {"h\xe4": {}}}'.encode("latin-1"), "line 1", "not UTF-8")
    c.raw("enc-truncated.yaml", b"nodes:\n  a: {}\n# \xe2\x82", "line 3", "not UTF-8")
    c.raw("enc-nul.yaml", b"nodes:\n  a: {}\x00\n", "line 2", "NUL byte")
    c.raw("ctl-bell.yaml", b"nodes:\n  a\x07: {}\n", "invalid YAML")
    c.raw("ctl-json.json", b'{"nodes": {"a\x01": {}}}', "invalid JSON")
    c.raw("syntax.yaml", b"nodes: [oops", "line 1", "invalid YAML")
    c.raw("syntax.json", b'{"nodes": ', "line 1", "invalid JSON")
    c.raw("empty.yaml", b"", "must be a mapping")
    c.raw("empty.json", b"", "invalid JSON")
    for i, text in enumerate([b"nodes:\n  a: {}\n  a: {}\n", b"nodes: {a: {}}\nnodes: {b: {}}\n"]):
        c.raw(f"dup-key-{i}.yaml", text, "duplicate key")
    c.raw("dup-key.json", b'{"nodes": {"a": {}, "a": {}}}', "duplicate key 'a'")
    c.raw("dup-null-keys.yaml", b"nodes:\n  ~: {}\n  null: {}\n", "duplicate key")
    yaml_types = {
        "date-key": (b"nodes:\n  2024-01-01: {}\n", "nodes.", "date"),
        "date-value": (b"nodes:\n  a: {image: 2024-01-01}\n", "nodes.a.image", "date"),
        "binary": (b"nodes:\n  a: {image: !!binary aGVsbG8=}\n", "nodes.a.image", "binary"),
        "set": (b"nodes:\n  a: {image: !!set {x, y}}\n", "nodes.a.image", "set"),
        "null-key": (b"nodes:\n  ~: {}\n", "nodes.", "null"),
        "null-word-key": (b"nodes:\n  null: {}\n  'null': {}\n", "nodes.", "not a string"),
        "int-key": (b"nodes:\n  1: {}\n", "nodes.1", "not a string"),
        "bool-key": (b"nodes:\n  yes: {}\n", "nodes.True", "not a string"),
        "float-key": (b"nodes:\n  1.5: {}\n", "nodes.1.5", "not a string"),
        "complex-key": (b"nodes:\n  ? [a, b]\n  : {}\n", "invalid YAML", "unhashable"),
        "map-key": (b"nodes:\n  ? {a: 1}\n  : {}\n", "invalid YAML", "unhashable"),
        "nan": (b"nodes:\n  a: {interfaces: {eth0: {mtu: .nan}}}\n", "mtu", "not a finite"),
        "inf": (b"nodes:\n  a:\n    routes: [{dst: default, dev: eth0, metric: .inf}]\n", "metric",
                "not a finite"),
        "neginf": (b"lans:\n  l: {mtu: -.inf}\nnodes: {a: {}}\n", "lans.l.mtu", "not a finite"),
        "sexagesimal-mac": (b"nodes:\n  a: {interfaces: {eth0: {mac: 12:34:56:00:00:01}}}\n"
                            b"  b: {}\nlinks: [{endpoints: [a, b]}]\n", "mac", "MAC"),
        "python-tag": (b"nodes: !!python/object:os.system {}\n", "invalid YAML", "constructor"),
    }
    for name, (text, field, words) in yaml_types.items():
        c.raw(f"yaml-{name}.yaml", text, field, words)
    c.raw("json-nan.json", b'{"nodes": {"a": {"interfaces": {"eth0": {"mtu": NaN}}}}}', "mtu",
          "not a finite")
    c.raw("json-inf.json", b'{"nodes": {"a": {}}, "lans": {"l": {"mtu": -Infinity}}}', "lans.l.mtu",
          "not a finite")
    digits = "9" * 5000
    c.raw("bigint.json", f'{{"nodes": {{"a": {{"interfaces": {{"eth0": {{"mtu": {digits}}}}}}}}}}}'.encode(),
          "nodes.a.interfaces.eth0.mtu", "5000 digits")
    c.raw("bigint.yaml", f"nodes:\n  a:\n    sysctls: {{net.x: {digits}}}\n".encode(),
          "nodes.a.sysctls.net.x", "5000 digits")
    c.raw("bigint-100.json", f'{{"nodes": {{"a": {{}}}}, "links": [], "x": {"1" * 100}}}'.encode(),
          "x", "100 digits")
    c.raw("int-2e64.yaml", b"nodes:\n  a: {sysctls: {net.x: 36893488147419103232}}\n",
          "nodes.a.sysctls.net.x", "out of range")
    c.raw("long-string.json", json.dumps({"nodes": {"a": {"image": "x" * 100000}}}).encode(),
          "nodes.a.image", "too long")
    c.raw("long-key.yaml", ("nodes:\n  " + "k" * 1000 + ": {}\n").encode(), "nodes.", "too long")


def depth_cases(c: Corpus) -> None:
    for n in (65, 200, 1000, 100000):
        c.raw(f"deep-array-{n}.json", ('{"nodes": {"a": {"x": ' + "[" * n + "]" * n + "}}}").encode(),
              "nested more than 64 levels")
        c.raw(f"deep-object-{n}.json", ('{"nodes": ' + '{"a": ' * n + "1" + "}" * n + "}").encode(),
              "nested more than 64 levels")
        c.raw(f"deep-flow-{n}.yaml", ("nodes: {a: {x: " + "[" * n + "]" * n + "}}\n").encode(),
              "nested more than 64 levels")
    block = "nodes:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(80)) + "  " * 81 + "v: 1\n"
    c.raw("deep-block-80.yaml", block.encode(), "nested more than 64 levels")


def bomb_cases(c: Corpus) -> None:
    for levels, width in ((8, 9), (10, 10), (20, 2)):
        lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
        for i in range(1, levels):
            refs = ", ".join(f"*l{i - 1}" for _ in range(width))
            lines.append(f"l{i}: &l{i} [{refs}]")
        text = "lol:\n" + "\n".join("  " + ln for ln in lines) + "\nnodes: {a: {}}\n"
        c.raw(f"bomb-{levels}x{width}.yaml", text.encode(), "aliases")
    many = "base: &b {}\nnodes:\n" + "".join(f"  n{i}: *b\n" for i in range(150))
    c.raw("aliases-150.yaml", many.encode(), "more than 100 aliases")


def size_cases(c: Corpus) -> None:
    nodes = {f"n{i}": {"image": "host" + " " * 50} for i in range(90000)}
    c.raw("huge.json", json.dumps({"nodes": nodes}).encode(), "bytes long", "4 MiB")
    c.raw("huge.yaml", b"nodes:\n" + b"  # padding\n" * 500000, "bytes long", "4 MiB")


def special_file_cases(c: Corpus) -> None:
    os.mkfifo(c.root / "fifo.yaml", 0o600)
    c.add("fifo.yaml", ("is a FIFO",))
    (c.root / "dir.yaml").mkdir()
    c.add("dir.yaml", ("is a directory",))
    os.symlink("/dev/zero", c.root / "zero.json")
    c.add("zero.json", ("is a device",))
    os.symlink("/dev/null", c.root / "null.yaml")
    c.add("null.yaml", ("is a device",))
    os.symlink("/nonexistent/topology.yaml", c.root / "dangling.yaml")
    c.add("dangling.yaml", ("cannot be read",))
    os.symlink("dir.yaml", c.root / "dirlink.json")
    c.add("dirlink.json", ("is a directory",))


def image_cases(c: Corpus) -> None:
    """Topologies that are fine, with an image directory that is not."""
    host = {"name": "host", "binaries": [{"name": "ip", "package": "iproute2"}]}
    cases: dict[str, Callable[[Path], None]] = {
        "empty-program": lambda d: (d / "x.json").write_text(json.dumps(
            {"name": "x", "binaries": [{"name": "", "package": "p"}]})),
        "empty-package": lambda d: (d / "x.json").write_text(json.dumps(
            {"name": "x", "binaries": [{"name": "p", "package": ""}]})),
        "newline-program": lambda d: (d / "x.json").write_text(json.dumps(
            {"name": "x", "binaries": [{"name": "a\nb", "package": "p"}]})),
        "fifo": lambda d: os.mkfifo(d / "x.json", 0o600),
        "dir": lambda d: (d / "x.json").mkdir(),
        "devzero": lambda d: os.symlink("/dev/zero", d / "x.json"),
        "deep": lambda d: (d / "x.json").write_text('{"name": "x", "description": '
                                                    + "[" * 100000 + "]" * 100000 + "}"),
        "sysctl-u64": lambda d: (d / "x.json").write_text(
            '{"name": "x", "sysctls": {"net.ipv4.ip_forward": 18446744073709551615}}'),
        "dup-key": lambda d: (d / "x.json").write_text('{"name": "x", "name": "y"}'),
        "huge": lambda d: (d / "x.json").write_text('{"name": "x", "description": "'
                                                    + "d" * (2 << 20) + '"}'),
        "bad-json": lambda d: (d / "x.json").write_text('{"name": '),
    }
    words = {"empty-program": "binaries[0].name", "empty-package": "binaries[0].package",
             "newline-program": "binaries[0].name", "fifo": "not a regular file",
             "dir": "is a directory", "devzero": "not a regular file", "deep": "nested more than 64",
             "sysctl-u64": "does not fit the kernel's int", "dup-key": "duplicate key 'name'",
             "huge": "bytes long", "bad-json": "is not valid JSON"}
    for name, make in cases.items():
        d = c.root / f"images-{name}"
        d.mkdir()
        (d / "host.json").write_text(json.dumps(host))
        make(d)
        topo = f"with-images-{name}.yaml"
        (c.root / topo).write_text("nodes: {a: {}}\n")
        c.add(topo, ("x.json", words[name]), images=d.name)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = Path(argv[1])
    root.mkdir(parents=True, exist_ok=True)
    c = Corpus(root)
    for make in (ifname_cases, mac_cases, address_cases, route_cases, mtu_cases, sysctl_cases,
                 name_and_structure_cases, reader_cases, depth_cases, bomb_cases, size_cases,
                 special_file_cases, image_cases):
        make(c)
    c.finish()
    print(f"{len(c.expected)} bad inputs in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
