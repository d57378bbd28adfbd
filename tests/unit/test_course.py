"""Lab definitions (course.py): variables and templates, and a broken lab
folder named by file and line when it is loaded, never a traceback later.
Lab folders are written to tmp_path; the curriculum is loaded as is."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from v6lab import _core
from v6lab.course import LabDefinition, find_lab, labs_dir, load_lab, render, scan_labs
from v6lab.errors import UnsupportedKernelError
from v6lab.testing import FakeLab

LAB_PY = '''
from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c


class Lab(LabDefinition):
    title = "Address ${host}"
    summary = "Give ${host} the address ${addr}"
    variables = {"host": "h1", "addr": "2001:db8:1::10/64", "mtu": 1400}

    def topology(self):
        t = Topo("demo")
        t.add_lan("lan1")
        t.add_host(self.vars["host"])
        t.add_link(self.vars["host"], "lan1")
        return t

    def steps(self):
        return [Step("addr", "Give ${host} ${addr}", [c.has_address("h1", "2001:db8:1::/64")],
                     hints=["ip -6 addr add ${addr} dev eth0", "plain"]),
                Step("mtu", "MTU", [c.link_up("h1", "eth0", mtu=int(self.vars["mtu"]))])]
'''


def write_lab(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    for rel, text in {"lab.py": LAB_PY, **files}.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return folder


def spec_error(fn, *args) -> _core.SpecError:
    with pytest.raises(_core.SpecError) as e:
        fn(*args)
    return e.value


# ------------------------------------------------------------------ render

def test_render_fills_braced_names_and_leaves_shell_syntax_alone():
    text = "ip addr add ${addr} dev $IFACE; echo $(hostname) $HOME ${addr} costs $5"
    assert render(text, {"addr": "2001:db8::1/64"}) == \
        "ip addr add 2001:db8::1/64 dev $IFACE; echo $(hostname) $HOME 2001:db8::1/64 costs $5"


def test_render_double_dollar_brace_is_a_literal_and_shell_pid_stays():
    """A README that teaches ${name} syntax itself writes $${name}; the
    shell's $$ (its pid) and ${VAR:-x} outside our name form stay."""
    text = "write $${addr} for ${addr}; kill $$; echo ${HOME:-/root}"
    assert render(text, {"addr": "2001:db8::1"}) == \
        "write ${addr} for 2001:db8::1; kill $$; echo ${HOME:-/root}"
    assert render("$${nope}", {}) == "${nope}"   # not a use: no unknown-variable error


def test_render_unknown_variable_names_where_and_what_is_known():
    e = spec_error(render, "x ${nope} y", {"b": "1", "a": "2"}, "labs/x/README.md")
    assert e.args[0] == "labs/x/README.md: unknown variable ${nope}"
    assert e.args[1] == [("labs/x/README.md", "", "unknown variable ${nope} (known: a, b)")]
    e = spec_error(render, "${x}", {}, "f")
    assert "(known: none)" in e.args[1][0][2]


# -------------------------------------------------------------- variables

def test_variables_fill_title_summary_steps_and_hints(tmp_path):
    d = load_lab(write_lab(tmp_path, "vars-lab", {}))
    assert d.id == "vars-lab" and d.folder == tmp_path / "vars-lab"
    assert d.vars == {"host": "h1", "addr": "2001:db8:1::10/64", "mtu": "1400"}  # all strings
    assert (d.title, d.summary) == ("Address h1", "Give h1 the address 2001:db8:1::10/64")
    d.validate()
    g = d.grader()
    assert g.step("addr").title == "Give h1 2001:db8:1::10/64"
    assert list(g.step("addr").hints) == ["ip -6 addr add 2001:db8:1::10/64 dev eth0", "plain"]


def test_node_files_are_placed_from_known_roots_and_templates_rendered(tmp_path):
    folder = write_lab(tmp_path, "files-lab", {
        "nodes/h1/etc/radvd.conf.tmpl": "prefix ${addr} { AdvOnLink on; }; # $NOT ${host}\n",
        "nodes/h1/root/notes.txt": "as is: ${left}\n",
    })
    (folder / "nodes/h1/root/notes.txt").chmod(0o600)
    d = load_lab(folder)
    files = {(n, p): (text, mode) for n, p, text, mode in d.node_files()}
    assert files[("h1", "/etc/radvd.conf")] == (
        "prefix 2001:db8:1::10/64 { AdvOnLink on; }; # $NOT h1\n", 0o644)
    assert files[("h1", "/root/notes.txt")] == ("as is: ${left}\n", 0o600)


def test_a_readme_with_variables_gives_instructions(tmp_path):
    d = load_lab(write_lab(tmp_path, "readme-lab", {"README.md": """\
        # Lab: ${host}
        Configure ${addr} on ${host}.

        Then check.
        ## Tasks
        1. the rest
        """}))
    d.validate()
    assert d.instructions() == "Configure 2001:db8:1::10/64 on h1.\n\nThen check."
    assert d.readme_text().startswith("# Lab: h1\n")


def test_fake_lab_of_a_definition_has_its_nodes_and_variables(tmp_path):
    d = load_lab(write_lab(tmp_path, "fake-lab", {}))
    lab = FakeLab.from_lab(d)
    assert (lab.name, list(lab.nodes)) == ("fake-lab", ["h1"])
    assert lab.vars["addr"] == "2001:db8:1::10/64"
    report = d.grader().grade(lab)
    assert [s.status for s in report.steps] == ["fail", "skipped"]


# ------------------------------------------------------------ broken labs

def test_no_lab_py(tmp_path):
    (tmp_path / "empty").mkdir()
    e = spec_error(load_lab, tmp_path / "empty")
    assert e.args[0] == f"{tmp_path / 'empty'}: no lab.py"


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    folder = write_lab(tmp_path, "syntax-lab", {"lab.py": "x = 1\n\ndef broken(:\n    pass\n"})
    e = spec_error(load_lab, folder)
    assert e.args[0].startswith(f"{folder / 'lab.py'}: line 3: SyntaxError")


def test_an_exception_at_import_names_the_file_and_line(tmp_path):
    folder = write_lab(tmp_path, "raise-lab", {"lab.py": "import os\n\nVALUE = {}['missing']\n"})
    e = spec_error(load_lab, folder)
    assert e.args[0] == f"{folder / 'lab.py'}: line 3: KeyError: 'missing'"


def test_lab_must_derive_from_lab_definition(tmp_path):
    folder = write_lab(tmp_path, "class-lab", {"lab.py": "class Lab:\n    pass\n"})
    e = spec_error(load_lab, folder)
    assert e.args[0] == (f"{folder / 'lab.py'}: Lab: must be a class deriving from "
                         "v6lab.course.LabDefinition")


def test_an_unknown_check_in_steps_names_the_line_in_the_lab(tmp_path):
    bad = LAB_PY.replace("c.has_address(", "c.no_such_check(")
    folder = write_lab(tmp_path, "step-lab", {"lab.py": bad})
    d = load_lab(folder)   # loading imports; steps() runs in validate()
    e = spec_error(d.validate)
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "no_such_check" in x)) + 1
    assert e.args[0] == (f"{folder / 'lab.py'}:{line}: AttributeError: module "
                         "'v6lab.grading.library' has no attribute 'no_such_check'")


def test_an_unknown_variable_in_a_step_title_is_named(tmp_path):
    folder = write_lab(tmp_path, "title-lab", {"lab.py": LAB_PY.replace("MTU", "MTU ${nope}")})
    e = spec_error(load_lab(folder).validate)
    assert e.args[0] == f"{folder / 'lab.py'}: unknown variable ${{nope}}"


@pytest.mark.parametrize("extra,why", [
    ({"solution.py": "SOLUTION = {'addr': print, 'nope': print}\n"},
     "solution.py: step 'nope' is not a step of the lab"),
    ({"mistakes.py": "from v6lab.course import Mistake\n"
                     "MISTAKES = [Mistake('typo', 'nope', 'a typo', print)]\n"},
     "mistakes.py: mistake 'typo' targets unknown step 'nope'"),
    ({"README.md": "# T\nUse ${nope}\n"}, "README.md: unknown variable ${nope}"),
    ({"nodes/h1/etc/x.conf.tmpl": "${nope}\n"},
     "nodes/h1/etc/x.conf.tmpl: unknown variable ${nope}"),
    ({"nodes/h1/usr/bin/tool": "#!/bin/sh\n"}, "nodes/h1/usr/bin/tool: not placed"),
], ids=["solution", "mistake", "readme", "template", "root"])
def test_broken_parts_of_a_lab_are_named_by_file(tmp_path, extra, why):
    folder = write_lab(tmp_path, "parts-lab", extra)
    e = spec_error(load_lab(folder).validate)
    assert e.args[0] == f"{folder}/{why}"


def test_a_symlink_among_node_files_is_refused(tmp_path):
    folder = write_lab(tmp_path, "link-lab", {"nodes/h1/etc/ok.conf": "x\n"})
    (folder / "nodes/h1/etc/passwd").symlink_to("/etc/passwd")
    e = spec_error(load_lab(folder).validate)
    assert e.args[1][0][2] == "per-node files go under etc, var, root, srv and may not be links"


def test_a_broken_lab_breaks_no_other_and_is_said_by_find_lab(tmp_path):
    write_lab(tmp_path, "good", {})
    write_lab(tmp_path, "bad", {"lab.py": "raise RuntimeError('half written')\n"})
    (tmp_path / "not-a-lab").mkdir()
    labs, broken = scan_labs([tmp_path])
    assert list(labs) == ["good"]
    assert broken == [f"{tmp_path / 'bad' / 'lab.py'}: line 1: RuntimeError: half written"]
    e = spec_error(find_lab, "bad", tmp_path)
    assert "half written" in e.args[0]
    with pytest.raises(_core.Error, match=r"no lab called 'zz' \(labs: good\)"):
        find_lab("zz", tmp_path)


def test_two_labs_of_one_id_keep_the_first(tmp_path):
    for name in ("a-first", "b-second"):
        write_lab(tmp_path, name, {"lab.py": LAB_PY.replace("title =", "id = 'same'\n    title =")})
    labs, broken = scan_labs([tmp_path])
    assert list(labs) == ["same"] and labs["same"].folder.name == "a-first"
    assert broken == [f"{tmp_path / 'b-second'}: a lab called 'same' is already loaded from "
                      f"{tmp_path / 'a-first'}"]


def test_solve_applies_the_solution_in_step_order_and_stops_at_upto(tmp_path):
    folder = write_lab(tmp_path, "solve-lab", {"solution.py": """\
        DONE = []
        SOLUTION = {"mtu": lambda lab: DONE.append("mtu"), "addr": lambda lab: DONE.append("addr")}
        """})
    d = load_lab(folder)
    assert d.solve(FakeLab(), upto="addr") == ["addr"]
    assert d.solve(FakeLab()) == ["addr", "mtu"]
    del d.solution["mtu"]
    with pytest.raises(_core.Error, match="the solution has no entry for step 'mtu'"):
        d.solve(FakeLab())


# -------------------------------------------------------------- curriculum

CURRICULUM = sorted(p.name for p in labs_dir().iterdir() if (p / "lab.py").exists())


@pytest.mark.parametrize("lab_id", CURRICULUM)
def test_every_curriculum_lab_loads_validates_and_parses_without_root(lab_id):
    d = load_lab(labs_dir() / lab_id)
    d.validate()
    assert isinstance(d, LabDefinition) and d.solution and d.mistakes
    lab = FakeLab.from_lab(d)   # the topology through the core's validator
    assert set(lab.nodes) == set(d.topology().nodes())


class ShellNode:
    """A node's cmd() as a shell on this machine, for tun_problem(node):
    the probe's real shell and its real error messages, on a device path
    the test chooses (no lab is built in this tier)."""

    name = "gw"

    def cmd(self, command: str, **kw):
        import subprocess
        return subprocess.run(["sh", "-c", command], capture_output=True, text=True)


def test_tun_from_inside_a_node_names_the_node_and_the_fix(tmp_path, monkeypatch):
    """A lab's setup asks from inside a node (nat64's gw): the shell's
    failure becomes the same sentence as kernel_features' "tun"."""
    import os
    from v6lab import course
    device = tmp_path / "tun"
    monkeypatch.setattr(course, "TUN_DEVICE", str(device))
    why = course.tun_problem(ShellNode())
    assert why.startswith("in node gw, this machine has no TUN device") and "modprobe tun" in why
    device.mkdir()
    why = course.tun_problem(ShellNode())
    assert why.startswith(f"in node gw, {device} cannot be opened (") and "TUN" in why, why
    device.rmdir()
    device.write_text("")
    assert course.tun_problem(ShellNode()) == "" == course.tun_problem()
    device.chmod(0)
    if os.geteuid() != 0:    # the tier's run as nobody: a mode that refuses this user
        why = course.tun_problem(ShellNode())
        assert why == "in node gw, " + course.tun_problem(), why
        assert "not accessible to this user" in why and f"chmod 0666 {device}" in why


def test_kernel_features_take_tun(tmp_path, monkeypatch):
    """"tun" is probed by opening the device (here a path that does not
    exist), not by the core's link probe, which knows no such kind."""
    from v6lab import course
    monkeypatch.setattr(course, "TUN_DEVICE", str(tmp_path / "no-tun"))
    d = load_lab(write_lab(tmp_path, "demo", {}))
    d.kernel_features = ("tun",)
    missing = d.missing_kernel_features()
    assert len(missing) == 1 and "CONFIG_TUN" in missing[0], missing
    with pytest.raises(UnsupportedKernelError, match="lab demo cannot run on this machine: this "
                       "machine has no TUN device"):
        d.require_kernel()


@pytest.mark.parametrize("order,number", [("order = 120", 12), ("order = 10", 1),
                                          ("order = 105", None), ("", None),
                                          ("order = 0", None)])
def test_a_labs_number_is_its_curriculum_place(tmp_path, order, number):
    """order 120 is lab 12, as README.md's table counts; a lab slotted
    between two (105), or with the default order, has no number."""
    lab_py = LAB_PY.replace('    title = "Address ${host}"',
                            f'    {order}\n    title = "Address ${{host}}"')
    d = load_lab(write_lab(tmp_path, "demo", {"lab.py": lab_py}))
    assert d.number == number


def test_an_order_that_is_no_number_is_named(tmp_path):
    lab_py = LAB_PY.replace('    title = "Address ${host}"',
                            '    order = "12"\n    title = "Address ${host}"')
    e = spec_error(load_lab(write_lab(tmp_path, "demo", {"lab.py": lab_py})).validate)
    assert "demo/lab.py: order must be a whole number" in str(e) and "'12'" in str(e)


def test_the_readmes_curriculum_table_numbers_the_labs_as_they_do():
    """README.md's table and `v6lab labs` give each lab one number, and
    the lab's own docstring ("Lab 12: ...") says the same."""
    readme = (labs_dir().parent / "README.md").read_text()
    table = dict((m[2], int(m[1])) for m in
                 re.finditer(r"^\| (\d+) \| `([a-z0-9-]+)` \|", readme, re.M))
    labs = scan_labs([labs_dir()])[0]
    assert table and table == {i: d.number for i, d in labs.items()}
    assert len(set(table.values())) == len(table)
    for i, d in labs.items():
        doc = (d.folder / "lab.py").read_text().lstrip('"\n')
        assert doc.startswith(f"Lab {d.number}:"), (i, doc[:40])
