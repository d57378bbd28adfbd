"""Graded labs: a lab definition bundles a topology, an initial state, the
graded steps, a reference solution and scripted common mistakes.

A lab lives in its own folder under labs/ (see docs/writing-labs.md):

    labs/<id>/lab.py        class Lab(LabDefinition): topology, setup, steps
    labs/<id>/solution.py   SOLUTION = {step_id: fn(lab)}
    labs/<id>/mistakes.py   MISTAKES = [Mistake(...)]
    labs/<id>/README.md     for the trainee
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable, Optional

from . import paths
from ._core import Error, SpecError
from .grading import Grader, Step
from .topo import Topo

if TYPE_CHECKING:
    from .lab import Lab

Action = Callable[["Lab"], None]


class UnsupportedKernelError(Error):
    """The lab needs a kernel feature this machine does not have."""


@dataclass
class Mistake:
    """A common mistake, scripted: apply() runs instead of the solution of
    `step`, and grading must then fail exactly that step."""

    name: str
    step: str
    description: str
    apply: Action


class LabDefinition:
    """Subclass in labs/<id>/lab.py as `class Lab(LabDefinition)`."""

    id: str = ""
    title: str = ""
    level: str = "beginner"
    minutes: int = 30
    summary: str = ""
    order: int = 100

    # Kernel features the lab needs beyond namespaces, veth and bridges:
    # link kinds ("sit", "ip6tnl", "gre", "dummy", "vxlan", ...) or "netem".
    # Where one is missing the lab is refused before anything is built (and
    # skipped by the tests), with the kernel option that provides it.
    kernel_features: tuple[str, ...] = ()

    folder: Path = Path(".")
    solution: dict[str, Action] = {}
    mistakes: list[Mistake] = []

    def topology(self) -> Topo:
        raise NotImplementedError

    def setup(self, lab: "Lab") -> None:
        """The initial state, applied after the lab is built (e.g. a seeded
        fault). The default is none."""

    def steps(self) -> list[Step]:
        raise NotImplementedError

    # -- derived -----------------------------------------------------------
    def missing_kernel_features(self) -> list[str]:
        """One sentence per feature this kernel lacks (probed, not guessed)."""
        from . import _core
        return [m for m in (_core.kernel_feature_missing(f) for f in self.kernel_features) if m]

    def require_kernel(self) -> None:
        missing = self.missing_kernel_features()
        if missing:
            raise UnsupportedKernelError(f"lab {self.id} cannot run on this machine: "
                                         + "; ".join(missing))

    def grader(self) -> Grader:
        return Grader(self.steps())

    @property
    def readme(self) -> Path:
        return self.folder / "README.md"

    def instructions(self) -> str:
        """The trainee README's first section after the title: what to do
        first, printed by `v6lab start`."""
        try:
            text = self.readme.read_text()
        except OSError:
            return ""
        lines = text.splitlines()
        out: list[str] = []
        for line in lines[1:]:
            if line.startswith("## ") and out:
                break
            out.append(line)
        return "\n".join(out).strip()

    def solve(self, lab: "Lab", upto: Optional[str] = None) -> list[str]:
        """Applies the reference solution step by step, up to and including
        `upto` (all steps if None). Returns the steps solved."""
        done = []
        for step in self.steps():
            fn = self.solution.get(step.id)
            if fn is None:
                raise Error(f"lab {self.id}: the solution has no entry for step '{step.id}'")
            fn(lab)
            done.append(step.id)
            if step.id == upto:
                break
        return done


def labs_dir() -> Path:
    env = os.environ.get("V6LAB_LABS")
    if env:
        return Path(env)
    checkout = paths.PACKAGE_DIR.parent.parent / "labs"
    return checkout if checkout.is_dir() else Path("/usr/share/v6lab/labs")


def _package(folder: Path) -> str:
    """Makes the lab folder an importable package v6lab_labs.<id>, so its
    files can import each other (from .solution import ...)."""
    if "v6lab_labs" not in sys.modules:
        root = ModuleType("v6lab_labs")
        root.__path__ = []  # type: ignore[attr-defined]
        sys.modules["v6lab_labs"] = root
    name = "v6lab_labs." + folder.name.replace("-", "_")
    if name not in sys.modules:
        pkg = ModuleType(name)
        pkg.__path__ = [str(folder)]  # type: ignore[attr-defined]
        sys.modules[name] = pkg
    return name


def _import(pkg: str, stem: str, path: Path) -> ModuleType:
    try:
        return importlib.import_module(f"{pkg}.{stem}")
    except Exception as e:
        tb = e.__traceback__
        line = ""
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                line = f"line {tb.tb_lineno}"
            tb = tb.tb_next
        if isinstance(e, SyntaxError) and e.lineno:
            line = f"line {e.lineno}"
        raise SpecError(f"{path}: {line + ': ' if line else ''}{type(e).__name__}: {e}",
                        [(str(path), line, f"{type(e).__name__}: {e}")]) from None


def load_lab(folder: Path) -> LabDefinition:
    """Loads one lab folder. A broken lab names its file and what is wrong."""
    lab_py = folder / "lab.py"
    if not lab_py.exists():
        raise SpecError(f"{folder}: no lab.py", [(str(folder), "", "no lab.py")])
    pkg = _package(folder)
    mod = _import(pkg, "lab", lab_py)
    cls = getattr(mod, "Lab", None)
    if not (isinstance(cls, type) and issubclass(cls, LabDefinition)):
        raise SpecError(f"{lab_py}: Lab: must be a class deriving from v6lab.course.LabDefinition",
                        [(str(lab_py), "Lab", "must be a class deriving from LabDefinition")])
    d = cls()
    d.folder = folder
    d.id = d.id or folder.name
    d.solution = {}
    d.mistakes = []
    if (folder / "solution.py").exists():
        d.solution = getattr(_import(pkg, "solution", folder / "solution.py"), "SOLUTION", {})
    if (folder / "mistakes.py").exists():
        d.mistakes = getattr(_import(pkg, "mistakes", folder / "mistakes.py"), "MISTAKES", [])
    return d


def load_labs(root: Optional[Path] = None) -> dict[str, LabDefinition]:
    """Every lab under root, in curriculum order."""
    root = root or labs_dir()
    labs = [load_lab(d) for d in sorted(root.iterdir()) if (d / "lab.py").exists()] \
        if root.is_dir() else []
    return {d.id: d for d in sorted(labs, key=lambda d: (d.order, d.id))}


def find_lab(lab_id: str, root: Optional[Path] = None) -> LabDefinition:
    labs = load_labs(root)
    if lab_id in labs:
        return labs[lab_id]
    raise Error(f"no lab called '{lab_id}' (labs: {', '.join(labs) or 'none'})")
