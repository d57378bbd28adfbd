"""Topologies without a lab: files read by topo_file (hostile or simply
wrong), Topo's own checks, and the core's validator (_core.Spec.parse, pure
C++ parsing), which reports every problem at once, each with its field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from v6lab import Topo, _core, paths
from v6lab.testing import FakeLab
from v6lab.topo import load_topology
from v6lab.topo_file import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_ISSUES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def parse(raw: dict, source: str = "t.json") -> dict:
    images = _core.ImageRegistry.load_path([str(p) for p in paths.images_path()])
    return json.loads(_core.Spec.parse(json.dumps(raw), source, images).to_json())


def issues(fn, *args) -> list[tuple[str, str, str]]:
    with pytest.raises(_core.SpecError) as e:
        fn(*args)
    lines = e.value.args[0].splitlines()
    tuples = [tuple(i) for i in e.value.args[1]]
    # The message is the issues, one line each, as SOURCE: FIELD: message.
    assert lines == [f"{s}: {f}: {m}" if f else f"{s}: {m}" for s, f, m in tuples]
    return tuples


# --------------------------------------------------------------- the core

@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_the_examples_parse_and_resolve(path):
    raw, source = load_topology(path)
    spec = parse(raw, source)
    assert spec["name"] and spec["nodes"]
    for name, node in spec["nodes"].items():
        assert node["images"] and "interfaces" in node, name
    lab = FakeLab.from_topology(raw)
    assert set(lab.nodes) == set(spec["nodes"])


def test_the_validator_reports_every_problem_at_once_with_its_field():
    bad = {"name": "x",
           "nodes": {"h1": {"image": "nope"}, "h2": {"image": "host", "sysctls": {"a": 1}}},
           "lans": {"l": {"mtu": -5}},
           "links": [{"endpoints": ["h1", "zz"]}, {"endpoints": ["h2:eth0", "l"], "bogus": 1}]}
    got = issues(parse, bad, "bad.json")
    assert [(s, f) for s, f, _ in got] == [
        ("bad.json", "nodes.h1.image"), ("bad.json", "nodes.h2.sysctls.a"),
        ("bad.json", "lans.l.mtu"), ("bad.json", "links[0].endpoints[1]"),
        ("bad.json", "links[1].bogus")]
    msgs = dict((f, m) for _, f, m in got)
    assert msgs["nodes.h1.image"].startswith("unknown image 'nope' (known: ")
    assert msgs["nodes.h2.sysctls.a"] == ("sysctl 'a' is not a per-namespace 'net.' key "
                                          "(others would change the host)")
    assert msgs["links[0].endpoints[1]"] == "'zz' is neither a node nor a LAN"
    assert msgs["links[1].bogus"] == "unknown key (expected one of: endpoints, mtu)"


@pytest.mark.parametrize("raw,field,start", [
    ({"nodes": {}}, "nodes", "must be a non-empty object"),
    ({"nodes": {"a": {}}, "colour": 1}, "colour", "unknown key (expected one of: lans, links"),
    ({"nodes": {"1bad": {}}}, "nodes.1bad", "name '1bad' must start with a letter"),
    ({"nodes": {"a": {}, "b": {}}, "links": [{"endpoints": ["a:averyveryverylongname", "b"]}]},
     "links[0].endpoints[0]", "interface name 'averyveryverylongname' must be 1 to 15 bytes"),
    ({"nodes": {"a": {"interfaces": {"eth0": {"addresses": ["2001:db8::1/129"]}}}, "b": {}},
      "links": [{"endpoints": ["a", "b"]}]},
     "nodes.a.interfaces.eth0.addresses[0]", "prefix length 129 in '2001:db8::1/129'"),
    ({"nodes": {"a": {}, "b": {}}, "links": [{"endpoints": [{"node": "a", "mac": "zz"}, "b"]}]},
     "links[0].endpoints[0].mac", "must be a MAC address like 02:00:00:00:00:01, not 'zz'"),
    ({"nodes": {"a": {"routes": [{"dst": "default", "via": "nope"}]}}},
     "nodes.a.routes[0].via", "'nope' is not an IPv6 or IPv4 address"),
    ({"nodes": {"a": {}, "b": {}}, "links": [{"endpoints": ["a", "b"], "mtu": 1000}]},
     "links[0].mtu", "MTU 1000 of a:eth0 is below 1280"),
], ids=["empty", "top-key", "node-name", "ifname", "prefix-len", "mac", "via", "mtu"])
def test_the_validator_names_the_field(raw, field, start):
    got = issues(parse, raw)
    assert got[0][:2] == ("t.json", field) and got[0][2].startswith(start), got


def test_the_resolved_spec_names_interfaces_and_lan_members():
    t = Topo("two")
    t.add_lan("lan1")
    t.add_router("r1")
    t.add_host("h1")
    t.add_link("r1", "lan1", addrs_a=["2001:db8:1::1/64"])
    t.add_link("h1", "lan1")
    t.add_link("r1", "h1", intf_a="p2p0")
    spec = parse(t.to_spec())
    assert spec["lans"]["lan1"]["members"] == ["r1:eth0", "h1:eth0"]
    assert spec["nodes"]["r1"]["interfaces"]["p2p0"]["peer"] == "h1:eth1"
    assert spec["nodes"]["r1"]["interfaces"]["eth0"]["addresses"] == ["2001:db8:1::1/64"]
    assert spec["nodes"]["r1"]["sysctls"]["net.ipv6.conf.all.forwarding"] == "1"


# -------------------------------------------------------------------- Topo

def test_topo_refuses_a_name_used_twice_and_routes_of_unknown_nodes():
    t = Topo("t")
    t.add_host("h1")
    for add, field in ((lambda: t.add_host("h1"), "nodes.h1"), (lambda: t.add_lan("h1"), "lans.h1"),
                       (lambda: t.add_route("zz", "default"), "nodes.zz.routes")):
        with pytest.raises(_core.SpecError) as e:
            add()
        assert e.value.args[1][0][:2] == ("Topo Topo", field)


def test_topo_spec_shape_and_default_name():
    class Topo2(Topo):
        def build(self):
            self.add_host("h1", sysctls={"net.ipv6.conf.all.forwarding": 0})
            self.add_route("h1", "default", via="2001:db8::1", metric=5)
    assert Topo().name == "lab" and Topo2().name == "topo2"
    assert Topo2().to_spec() == {"name": "topo2", "nodes": {"h1": {
        "image": "host", "sysctls": {"net.ipv6.conf.all.forwarding": 0},
        "routes": [{"dst": "default", "via": "2001:db8::1", "metric": 5}]}}}


# --------------------------------------------------------------- the files

def write(tmp_path: Path, name: str, data) -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


@pytest.mark.parametrize("name,data,field,start", [
    ("a.json", '{"nodes": {\n  "h1": {]\n}}', "line 2", "invalid JSON"),
    ("a.json", '{"nodes": {"h1": {}, "h1": {}}}', "", "duplicate key 'h1'"),
    ("a.yaml", "nodes:\n  h1: {}\n  h1: {}\n", "line 3", "invalid YAML: duplicate key 'h1'"),
    ("a.yaml", "nodes: [oops\n", "line 2", "invalid YAML"),
    ("a.yaml", "name: 2024-01-01\nnodes: {h1: {}}\n", "name", "2024-01-01 was read as a date"),
    ("a.yaml", "nodes:\n  1: {}\n", "nodes.1", "key 1 is a int, not a string: quote it"),
    ("a.yaml", "nodes:\n  ~: {}\n", "nodes.None", "key ~ (null) is a NoneType, not a string"),
    ("a.yaml", "nodes: {h1: {}}\nx: .nan\n", "x", "nan is not a finite number"),
    ("a.yaml", "nodes: {h1: {}}\nx: !!binary aGk=\n", "x", "binary data (!!binary)"),
    ("a.yaml", "nodes: {h1: {}}\nx: !!set {a: null}\n", "x", "a set (!!set) is not a topology"),
    ("a.json", '{"nodes": {}, "x": ' + "9" * 50 + "}", "x",
     "an integer of 50 digits is out of range"),
    ("a.yaml", "x: " + "9" * 50 + "\n", "x", "an integer of 50 digits is out of range"),
    ("a.json", '{"x": "' + "y" * 5000 + '"}', "x", "a string of 5000 characters is too long"),
    ("a.json", "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10), "[0][0][0]…",
     f"nested more than {MAX_DEPTH} levels deep"),
    ("a.yaml", "x: " + "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10) + "\n", "line 1",
     f"invalid YAML: nested more than {MAX_DEPTH} levels deep"),
    ("a.yaml", "a: &a [1]\n" + "".join(f"k{i}: *a\n" for i in range(MAX_ALIASES + 1)),
     f"line {MAX_ALIASES + 2}", f"invalid YAML: more than {MAX_ALIASES} aliases"),
    ("a.json", b"\xff\xfe{\x00}\x00", "", "is UTF-16 (little-endian) (byte-order mark found)"),
    ("a.json", b'{"nodes":\n {"h\x00": 1}}', "line 2", "NUL byte at byte 14"),
    ("a.json", b'{"nodes":\n\n {"h\xe9": 1}}', "line 3", "not UTF-8 at byte 15 (0xe9)"),
], ids=["json-syntax", "json-dup", "yaml-dup", "yaml-syntax", "date", "int-key", "null-key",
        "nan", "binary", "set", "json-bigint", "yaml-bigint", "long-string", "json-deep",
        "yaml-deep", "alias-bomb", "utf16", "nul", "latin1"])
def test_a_bad_file_names_file_and_field(tmp_path, name, data, field, start):
    path = write(tmp_path, name, data)
    got = issues(load_topology, path)
    assert got[0][0] == str(path)
    if field.endswith("…"):   # a long path, cut
        assert got[0][1].startswith(field[:-1]) and got[0][1].endswith("…"), got
    else:
        assert got[0][1] == field, got
    assert got[0][2].startswith(start), got


def test_every_value_problem_is_reported_at_once_with_its_path(tmp_path):
    path = write(tmp_path, "a.yaml", "nodes:\n  h1: {sysctls: {a: .inf}}\n"
                                     "  h2: {image: 2024-02-03}\n"
                                     "links: [{endpoints: [h1, 2020-01-01]}]\n")
    got = issues(load_topology, path)
    assert [f for _, f, _ in got] == ["nodes.h1.sysctls.a", "nodes.h2.image",
                                     "links[0].endpoints[1]"]


def test_the_number_of_problems_reported_is_capped(tmp_path):
    body = ", ".join(f'"k{i}": NaN' for i in range(MAX_ISSUES * 3))
    got = issues(load_topology, write(tmp_path, "a.json", "{" + body + "}"))
    assert len(got) == MAX_ISSUES


def test_only_a_regular_file_of_a_sane_size_is_read(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")   # a FIFO would block a plain open() forever
    (tmp_path / "dir.yaml").mkdir()
    with open(tmp_path / "huge.json", "wb") as f:
        f.truncate(MAX_BYTES + 1)
    want = {"fifo.yaml": "is a FIFO, not a regular topology file",
            "dir.yaml": "is a directory, not a topology file",
            "huge.json": f"is {MAX_BYTES + 1} bytes long; topology files are read up to 4 MiB",
            "missing.json": "cannot be read: No such file or directory"}
    for name, why in want.items():
        assert issues(load_topology, tmp_path / name) == [(str(tmp_path / name), "", why)]


def test_a_topology_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "a.yaml", "- just\n- a list\n")
    assert issues(load_topology, path) == [
        (str(path), "", "a topology must be a mapping with nodes, lans and links")]


def test_a_utf8_bom_is_accepted(tmp_path):
    raw, _ = load_topology(write(tmp_path, "a.json", b'\xef\xbb\xbf{"nodes": {"h1": {}}}'))
    assert raw == {"nodes": {"h1": {}}}
