"""The lab model: the resolved spec is typed (bound read-only from the C++
core), the owner of a lab and a process that finds it through its record
hold the same model, and what only the owner can do is refused on an
attached lab with NotOwnerError (exit code 2), never AttributeError."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from conftest import ROOT, Small
from v6lab import (Error, Lab, LabView, NotOwnerError, RunningLab, Topo, _core, detached,
                   errors, registry)


class Model(Topo):
    """A LAN, a point-to-point link, a provider node, a node of two images
    (two roles), a static route with a metric, MTUs and a MAC."""

    def build(self) -> None:
        lan = self.add_lan("lan1", mtu=1400)
        self.add_node("r1", ["router", "dhcp6-server"])
        self.add_host("h1")
        self.add_router("isp", provider=True)
        self.add_link("r1", lan, addrs_a=["2001:db8:1::1/64"])
        self.add_link("h1", lan)
        self.add_link("r1", "isp", intf_a="wan", mtu=1300, mac_a="02:00:00:00:00:0a",
                      addrs_a=["2001:db8:f::2/64"], addrs_b=["2001:db8:f::1/64"])
        self.add_route("r1", "default", via="2001:db8:f::1", dev="wan", metric=7)


def test_the_resolved_spec_is_typed():
    spec = Lab(Model()).spec
    assert isinstance(spec, _core.Spec)
    assert (spec.name, spec.source) == ("model", "Topo Model")
    assert [n.name for n in spec.nodes] == ["r1", "h1", "isp"]

    r1 = spec.node("r1")
    assert isinstance(r1, _core.NodeSpec)
    assert (r1.image, r1.images, r1.roles) == ("router+dhcp6-server", ["router", "dhcp6-server"],
                                               ["router", "server"])
    assert not r1.provider and spec.node("isp").provider
    assert ("net.ipv6.conf.all.forwarding", "1") in r1.sysctls
    assert ("dnsmasq", "dnsmasq") in [(b.name, b.package) for b in r1.binaries]

    eth0, wan = r1.interfaces
    assert (eth0.name, eth0.kind, eth0.lan, eth0.peer, eth0.mtu) == \
        ("eth0", "lan", "lan1", "", 1400)
    assert [a.cidr for a in eth0.addresses] == ["2001:db8:1::1/64"]
    addr = eth0.addresses[0]
    assert (addr.family, addr.address, addr.prefix_len, str(addr)) == \
        (socket.AF_INET6, "2001:db8:1::1", 64, "2001:db8:1::1/64")
    assert (wan.kind, wan.peer, wan.peer_node, wan.peer_iface, wan.mtu, wan.mac) == \
        ("link", "isp:eth0", "isp", "eth0", 1300, "02:00:00:00:00:0a")
    assert r1.iface("wan").name == "wan" and r1.iface("nope") is None

    (route,) = r1.routes
    assert (route.dst.cidr, route.via.address, route.dev, route.metric) == \
        ("::/0", "2001:db8:f::1", "wan", 7)

    (lan,) = spec.lans
    assert (lan.name, lan.mtu, lan.members) == ("lan1", 1400, [("r1", "eth0"), ("h1", "eth0")])
    assert spec.lan("lan1").members == lan.members and spec.lan("nope") is None
    (link,) = spec.links
    assert link.endpoints == [("r1", "wan"), ("isp", "eth0")] and link.mtu == 1300

    assert repr(spec) == "<Spec model from Topo Model: 3 nodes, 1 LANs, 1 links>"
    assert repr(r1) == "<NodeSpec r1 (router+dhcp6-server) roles router,server, 2 interfaces>"
    assert repr(wan) == "<IfaceSpec wan on link to isp:eth0 mtu 1300, 1 addresses>"
    assert repr(lan) == "<LanSpec lan1 mtu 1400, 2 members>"
    assert repr(link) == "<LinkSpec r1:wan -- isp:eth0 mtu 1300>"
    assert repr(route) == "<RouteSpec ::/0 via 2001:db8:f::1 dev wan metric 7>"


def test_the_model_is_read_only_and_outlives_nothing_it_needs():
    spec = Lab(Model()).spec
    node = spec.node("r1")
    with pytest.raises(AttributeError, match="no setter"):
        node.provider = True  # type: ignore[misc]
    with pytest.raises(TypeError, match="No constructor"):
        _core.NodeSpec()
    members = spec.lans[0].members
    members.append(("evil", "eth9"))  # a copy: the spec is unchanged
    assert len(spec.lans[0].members) == 2
    del spec  # the items keep the Spec they refer into alive
    assert node.interfaces[0].addresses[0].cidr == "2001:db8:1::1/64"


def test_to_dict_and_from_json_round_trip():
    spec = Lab(Model()).spec
    d = spec.to_dict()
    assert d["nodes"]["r1"]["roles"] == ["router", "server"]
    back = _core.Spec.from_json(json.dumps(d), "record x")
    assert back == spec and back.to_dict() == d
    assert back != Lab(Small()).spec


def test_from_json_names_the_origin_and_field():
    d = Lab(Model()).spec.to_dict()
    d["lans"]["lan1"]["members"][1] = "isp:eth0"
    with pytest.raises(_core.SpecError) as e:
        _core.Spec.from_json(json.dumps(d), "record x")
    assert ("record x", "lans.lan1.members[1]",
            "isp:eth0 does not say it is on LAN 'lan1'") in e.value.args[1]


# ------------------------------------------------------------ owner and attached

def test_an_attached_lab_holds_the_owners_model(lab_factory):
    lab = lab_factory(Model())
    att = Lab.attach(lab.id)
    assert isinstance(att, RunningLab) and isinstance(att, LabView) and not att.is_owner
    assert lab.is_owner and not isinstance(lab, RunningLab)
    assert att.spec == lab.spec and att.spec.to_dict() == lab.spec.to_dict()
    assert (att.name, att.id, att.source, att.owner_pid) == (lab.name, lab.id, lab.source,
                                                             lab.owner_pid)
    assert list(att.nodes) == list(lab.nodes)
    for node in lab:
        other = att[node.name]
        assert (other.pid, other.image, other.roles, other.provider) == \
            (node.pid, node.image, node.roles, node.provider)
        assert [i.name for i in other.spec.interfaces] == [i.name for i in node.spec.interfaces]
    assert att["isp"].provider and att["r1"].roles == ["router", "server"]
    assert att.switch_handle().pid == lab.switch_handle().pid
    assert att.running and att.vars == lab.vars and att.id_base == lab.id_base


def test_owner_only_methods_on_an_attached_lab_raise_not_owner(lab_factory):
    lab = lab_factory(Small())
    att = Lab.attach(lab.id)
    for what, call in [("start it", att.start), ("time its bring-up", att.timing),
                       ("read its resource limits", lambda: att.limits),
                       ("scope its lifetime", att.__enter__)]:
        with pytest.raises(NotOwnerError, match=f"belongs to process {lab.owner_pid}: "
                                                f"only that process can {what}") as e:
            call()
        assert errors.exit_code(e.value) == 2
    # What the record allows: a lab a script owns is that script's to stop.
    with pytest.raises(Error, match="not to a v6lab supervisor"):
        att.stop()
    assert lab.running and att.running
    # The owner's view answers all of them.
    assert lab.limits and set(lab.timing()) >= {"spawn", "total"}


def test_every_public_member_of_a_view_answers_on_an_attached_lab(lab_factory):
    """No AttributeError from anything LabView offers (spec_raw() was one)."""
    lab = lab_factory(Small())
    att = Lab.attach(lab.id)
    skipped = {"stop", "attach", "node_spec"}  # changes the lab / need arguments
    for name in (n for n in dir(LabView) if not n.startswith("_") and n not in skipped):
        try:
            value = getattr(att, name)
            if callable(value):
                value()
        except NotOwnerError:
            pass
    assert att.node_spec("h1").name == "h1"
    with pytest.raises(Error, match="has no node 'h9'"):
        att.node_spec("h9")


def test_a_detached_lab_is_attached_and_stopped_through_its_record(v6lab_available):
    topo = ROOT / "examples" / "small.yaml"
    rec = detached.start(topo, name="model-det")
    try:
        assert isinstance(rec.spec, _core.Spec) and rec.spec.node("r1").roles == ["router"]
        att = RunningLab.find(rec.id)
        expected = Lab(topo, name="model-det").spec
        assert att.spec == expected
        assert att["h1"].cmd("hostname").stdout.strip() == "h1"
        att.stop()  # asks the supervisor
        assert not att.running
    finally:
        if rec.alive():
            detached.stop_owner(rec)
    assert not rec.dir.exists()


# ------------------------------------------------------------ records

@pytest.fixture
def state_dir(v6lab_available, tmp_path, monkeypatch):
    d = tmp_path / "state"
    (d / "labs").mkdir(parents=True)
    monkeypatch.setenv("V6LAB_STATE_DIR", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_a_record_whose_spec_contradicts_itself_is_refused(state_dir, lab_factory):
    """A copy of a live lab's record (its processes pass registry.verify)
    whose LAN puts h3:eth0, an interface on a point-to-point link, on the
    router's port: graders would attribute the router's frames to h3. The
    spec reader refuses it, naming the field."""
    lab = lab_factory(Small())
    good = json.loads((state_dir / "labs" / lab.id / "lab.json").read_text())
    bad = {**good, "id": "moved-000001"}
    bad["spec"] = json.loads(json.dumps(good["spec"]))
    bad["spec"]["lans"]["lan1"]["members"][0] = "h3:eth0"
    (state_dir / "labs" / "moved-000001").mkdir()
    (state_dir / "labs" / "moved-000001" / "lab.json").write_text(json.dumps(bad))
    assert [r.id for r in registry.running()] == [lab.id]
    (line,) = [p for p in registry.problems() if "moved-000001" in p]
    assert line.endswith("field spec.lans.lan1.members[0]: "
                         "h3:eth0 does not say it is on LAN 'lan1' (and 1 more problem)"), line
    with pytest.raises(registry.RecordError, match="field spec.lans.lan1.members"):
        Lab.attach("moved-000001")
