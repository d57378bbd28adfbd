"""Lab records (registry.py) without a lab: a malformed record is refused
with the field that is wrong, a hostile records directory (links, FIFOs,
huge files, junk) is reported and never followed, and clean removes only
dead labs' records. Records live in a V6LAB_STATE_DIR under tmp_path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from v6lab import _core, paths, registry
from v6lab.registry import LabRecord, RecordError

DELETE = object()


def _resolved() -> dict:
    """A one-node lab's resolved spec, in the form a record keeps it."""
    images = _core.ImageRegistry.load_path([str(p) for p in paths.images_path()])
    raw = json.dumps({"name": "small", "nodes": {"h1": {}}})
    return _core.Spec.parse(raw, "examples/small.yaml", images).to_dict()


RESOLVED = _resolved()


def good() -> dict:
    """A record of a dead lab: its owner is this process with another
    start time, so it is never alive (nor verified)."""
    return {"id": "small-a1b2c3", "name": "small", "owner_pid": os.getpid(), "owner_starttime": 1,
            "created": 1.7e9, "detached": False, "source": "examples/small.yaml",
            "nodes": {"h1": {"pid": 2000, "starttime": 99, "netns": [4, 4026532000],
                             "pidns": [4, 4026532001], "image": "host"}},
            "spec": json.loads(json.dumps(RESOLVED)), "switch": None,
            "meta": {"course": "slaac"}, "zygote": {"pid": 1999, "starttime": 98}}


def mutate(path, value) -> dict:
    """good() with the field at path ("a/b", or a tuple of keys) set or deleted."""
    d = good()
    *parents, last = path.split("/") if isinstance(path, str) else path
    target = d
    for p in parents:
        target = target[p]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return d


def test_a_good_record_round_trips():
    rec = LabRecord.from_json(good())
    assert (rec.id, rec.name, rec.nodes["h1"]["pid"], rec.zygote) == \
        ("small-a1b2c3", "small", 2000, {"pid": 1999, "starttime": 98})
    assert rec.to_json() == good()
    assert not rec.alive()


BAD = [
    ("id", DELETE, "field id: missing"),
    ("id", 5, "field id: expected a string"),
    ("id", "../../etc", "field id: not a lab id"),
    ("id", "", "field id: not a lab id"),
    ("name", None, "field name: expected a string"),
    ("owner_pid", "1", "field owner_pid: expected an integer"),
    ("owner_pid", True, "field owner_pid: expected an integer"),
    ("owner_pid", 0, "field owner_pid: 0 is out of range"),
    ("owner_pid", 1 << 22, f"field owner_pid: {1 << 22} is out of range"),
    ("owner_starttime", 1.5, "field owner_starttime: expected an integer"),
    ("created", "now", "field created: expected a number"),
    ("created", float("nan"), "field created: expected a number"),
    ("created", False, "field created: expected a number"),
    ("detached", "no", "field detached: expected true or false"),
    ("source", ["x"], "field source: expected a string"),
    ("nodes", [], "field nodes: expected an object"),
    (("nodes", "../x"), {}, "field nodes.../x: not a node name"),
    ("nodes/h1", 7, "field nodes.h1: expected an object"),
    ("nodes/h1/pid", DELETE, "field nodes.h1.pid: missing"),
    ("nodes/h1/pid", -1, "field nodes.h1.pid: -1 is out of range"),
    ("nodes/h1/starttime", "99", "field nodes.h1.starttime: expected an integer"),
    ("nodes/h1/netns", [4], "field nodes.h1.netns: expected [device, inode]"),
    ("nodes/h1/netns", [4, -1], "field nodes.h1.netns: expected [device, inode]"),
    ("nodes/h1/pidns", [4, True], "field nodes.h1.pidns: expected [device, inode]"),
    ("nodes/h1/image", 3, "field nodes.h1.image: expected a string"),
    ("spec", "x", "field spec: expected an object"),
    ("spec/nodes", DELETE, "field spec.nodes: missing"),
    ("spec/nodes/h1", DELETE, "field spec.nodes: must be a non-empty object"),
    ("spec/nodes/h1/interfaces", DELETE, "field spec.nodes.h1.interfaces: missing"),
    ("spec/nodes/h1/interfaces", [], "field spec.nodes.h1.interfaces: must be an object"),
    ("spec/nodes/h1/provider", "yes", "field spec.nodes.h1.provider: must be true or false"),
    ("spec/name", "other", "field spec.name: 'other' is not the record's name 'small'"),
    ("spec/switch", {}, "field spec.switch: unknown key in a resolved spec"),
    ("switch", {"pid": "1"}, "field switch.pid: expected an integer"),
    ("meta", [1], "field meta: expected an object"),
    ("meta/course", 5, "field meta.course: expected a string"),
    ("zygote", DELETE, "field zygote: missing"),
    ("zygote/starttime", DELETE, "field zygote.starttime: missing"),
]


def _id(path, value) -> str:
    return f"{'/'.join(path) if isinstance(path, tuple) else path}={value!r}"[:40]


@pytest.mark.parametrize("path,value,why", BAD, ids=[_id(p, v) for p, v, _ in BAD])
def test_a_malformed_record_names_the_wrong_field(path, value, why):
    with pytest.raises(RecordError) as e:
        LabRecord.from_json(mutate(path, value))
    assert str(e.value) == why


@pytest.mark.parametrize("value", [None, [], "lab", 3])
def test_a_record_that_is_not_an_object_is_refused(value):
    with pytest.raises(RecordError, match="^expected an object$"):
        LabRecord.from_json(value)


def test_optional_fields_may_be_absent():
    d = good()
    del d["meta"], d["nodes"]["h1"]["image"], d["switch"]
    rec = LabRecord.from_json(d)
    assert rec.meta == {} and "image" not in rec.nodes["h1"]


# ------------------------------------------------------ the records folder

@pytest.fixture
def labs(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("V6LAB_STATE_DIR", str(tmp_path / "state"))
    root = tmp_path / "state" / "labs"
    root.mkdir(parents=True)
    return root


def put(labs: Path, name: str, content) -> Path:
    d = labs / name
    d.mkdir()
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    (d / "lab.json").write_bytes(data)
    return d


def test_read_record_file_refuses_links_fifos_directories_and_huge_files(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    cases = {"link": lambda p: p.symlink_to(real), "fifo": os.mkfifo, "dir": Path.mkdir,
             "huge": lambda p: os.truncate(p.open("wb").name, registry.MAX_RECORD_BYTES + 1)}
    want = {"link": "lab.json is a symbolic link",
            "fifo": "lab.json is not a regular file (a FIFO)",
            "dir": "lab.json is not a regular file (a directory)",
            "huge": f"lab.json is larger than {registry.MAX_RECORD_BYTES} bytes",
            "missing": "lab.json no such file or directory"}
    for name, make in cases.items():
        make(tmp_path / name)
    for name, why in want.items():
        with pytest.raises(RecordError) as e:
            registry.read_record_file(tmp_path / name)
        assert str(e.value) == why, name
    assert registry.read_record_file(real) == b"{}"


def test_every_bad_entry_is_reported_and_none_breaks_the_scan(labs, tmp_path):
    put(labs, "small-a1b2c3", good())
    put(labs, "other-id", good())
    put(labs, "notjson", b"{oops")
    put(labs, "latin1", b'{"name": "\xe9"}')
    put(labs, "badfield", mutate("nodes/h1/pid", "x"))
    (labs / "afile").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (labs / "alink").symlink_to(tmp_path / "elsewhere")
    entries = {e.path.name: (e.record, e.problem) for e in registry.all_records()}
    assert entries["small-a1b2c3"][0].id == "small-a1b2c3"
    assert {k: v[1] for k, v in entries.items() if v[0] is None} == {
        "other-id": "field id: 'small-a1b2c3' is not the name of its directory",
        "notjson": "lab.json is not valid JSON",
        "latin1": "lab.json is not UTF-8",
        "badfield": "field nodes.h1.pid: expected an integer",
        "afile": "it is not a directory",
        "alink": "it is a symbolic link, not a directory",
    }
    live, problems = registry.scan()
    assert live == []   # the good record's owner is dead: neither live nor a problem
    assert sorted(problems)[0] == f"ignored record {labs / 'afile'}: it is not a directory"
    assert len(problems) == 6
    with pytest.raises(RecordError, match="lab.json is not valid JSON"):
        registry.find("notjson")
    with pytest.raises(_core.Error, match="no lab is running"):
        registry.find(None)


def test_clean_removes_dead_records_and_old_junk_and_never_follows_a_link(labs, tmp_path):
    put(labs, "small-a1b2c3", good())
    put(labs, "junk", b"{oops")
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep").write_text("x")
    (labs / "alink").symlink_to(target)
    # Young junk may be a record being written right now: kept.
    assert registry.clean(grace=3600) == ["small (small-a1b2c3)"]
    assert sorted(p.name for p in labs.iterdir()) == ["alink", "junk"]
    assert sorted(registry.clean(grace=0)) == ["alink", "junk"]
    assert list(labs.iterdir()) == [] and (target / "keep").exists()


def test_write_and_remove_a_record(labs):
    rec = LabRecord.from_json(good())
    registry.write(rec)
    assert json.loads((labs / rec.id / "lab.json").read_text()) == good()
    assert registry.all_records()[0].record == rec
    registry.remove(rec)
    assert not (labs / rec.id).exists()


def test_clean_keeps_a_refused_record_whose_owner_is_alive(labs):
    """Another v6lab version's record (here: a field whose type it changed)
    of a lab that still runs must not be removed by this version's clean,
    which every lab build runs: that would orphan a running lab."""
    other_version = {**good(), "owner_starttime": _core.process_starttime(os.getpid()),
                     "created": "2026-12-01T23:00:00Z"}
    put(labs, "small-a1b2c3", other_version)
    assert registry.all_records()[0].record is None      # refused by this version
    assert registry.clean(grace=0) == []
    assert (labs / "small-a1b2c3" / "lab.json").exists()
    # Once that owner is gone, the record is junk like any other.
    (labs / "small-a1b2c3" / "lab.json").write_text(json.dumps({**other_version, "owner_starttime": 1}))
    assert registry.clean(grace=0) == ["small-a1b2c3"]
