"""The command line is a package without import cycles: every command
module imports on its own, without the package's __init__ having run, and
every way of running the command lists the same verbs, each documented in
docs/cli.md.

(When the training verbs were added to the group from a module of their
own, `python -m v6lab.cli --help` listed 13 of the 22 verbs: only
`python -m v6lab` had imported that module.)"""

from __future__ import annotations

import ast
import glob
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PY = "/usr/bin/python3"
CLI = ROOT / "bindings" / "v6lab" / "cli"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), "COLUMNS": "100"}
MODULES = sorted(Path(p).stem for p in glob.glob(str(CLI / "*.py"))
                 if Path(p).stem not in ("__init__", "__main__"))

# Imports v6lab.cli.NAME with v6lab.cli standing for an empty package, so
# that the package's __init__ (which imports every command module) never
# runs: a module that needs anything from it fails here. Prints the names
# of the module's commands.
ALONE = """
import importlib, sys, types, click, v6lab
pkg = types.ModuleType("v6lab.cli")
pkg.__path__ = [{path!r}]
sys.modules["v6lab.cli"] = pkg
m = importlib.import_module("v6lab.cli." + {name!r})
cmds = getattr(m, "COMMANDS", {{}})
assert all(isinstance(c, click.Command) for c in cmds.values()), cmds
assert not hasattr(pkg, "main"), "the package's __init__ ran"
print(" ".join(sorted(cmds)))
"""


def test_the_command_package_has_the_modules_it_says() -> None:
    assert {"_common", "lab_commands", "node_commands", "training", "info"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(name: str) -> None:
    r = subprocess.run([PY, "-c", ALONE.format(path=str(CLI), name=name)],
                       capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", MODULES + ["__main__"])
def test_no_module_imports_the_package_itself(name: str) -> None:
    """Read, not run: `import v6lab.cli` or `from . import X` for an X that
    is not a module of the package would import the __init__ (only the
    package's own __main__ may, to call run)."""
    tree = ast.parse((CLI / f"{name}.py").read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name == "v6lab.cli"]
        elif isinstance(node, ast.ImportFrom):
            if node.module == "v6lab.cli" or (node.level == 2 and node.module is None
                                              and any(a.name == "cli" for a in node.names)):
                bad.append(ast.unparse(node))
            elif node.level == 1 and node.module is None and name != "__main__":
                bad += [a.name for a in node.names if a.name not in MODULES]
    assert not bad, f"{name}.py imports the package: {bad}"


def listed(argv: list[str]) -> list[str]:
    """The verbs a --help lists (the lines under "Commands:")."""
    r = subprocess.run(argv + ["--help"], capture_output=True, text=True, env=ENV,
                       timeout=60, cwd="/")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    text = r.stdout.split("\nCommands:\n", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  (\S+)", text, re.M)]


def documented() -> list[str]:
    """The verbs docs/cli.md's command tables name in their first column."""
    out = []
    for line in (ROOT / "docs" / "cli.md").read_text().splitlines():
        if line.startswith("| `v6lab "):
            out += re.findall(r"`v6lab ([a-z][a-z-]*)", line.split(" | ")[0])
    return sorted(out)


def test_every_way_of_running_lists_every_command_and_docs_name_them() -> None:
    via_package = listed([PY, "-m", "v6lab"])
    assert listed([PY, "-m", "v6lab.cli"]) == via_package
    assert sorted(via_package) == documented()
    # Every command a module defines is on the group, and nothing else.
    defined = set()
    for name in MODULES:
        r = subprocess.run([PY, "-c", ALONE.format(path=str(CLI), name=name)],
                           capture_output=True, text=True, env=ENV, timeout=60)
        defined |= set(r.stdout.split())
    assert defined == set(via_package)
    assert {"start", "check", "graph", "capture", "up", "exec", "doctor"} <= defined
    # The launcher builds first when the checkout is not built: only run it
    # where that is done, so that a test never starts a build.
    lib = ROOT / "bindings" / "v6lab"
    if (lib / "libexec" / "v6lab-init").exists() and list(lib.glob("_core*.so")):
        assert listed([str(ROOT / "v6lab")]) == via_package
