"""Graded labs: a lab definition bundles a topology, an initial state, the
graded steps, a reference solution and scripted common mistakes.

A lab lives in its own folder under labs/ (see docs/writing-labs.md):

    labs/<id>/lab.py        class Lab(LabDefinition): topology, setup, steps
    labs/<id>/solution.py   SOLUTION = {step_id: fn(lab)}
    labs/<id>/mistakes.py   MISTAKES = [Mistake(...)]
    labs/<id>/README.md     for the trainee (README.<lang>.md in other languages)
    labs/<id>/locale/<lang>/LC_MESSAGES/<id>.po
                            the lab's translations (compiled to .mo by the build)
    labs/<id>/nodes/<node>/{etc,var,root,srv}/...
                            files placed into that node at start (a file
                            ending .tmpl has ${variable}s filled in)

Values used throughout a lab (prefixes, addresses, names) are defined once,
in `variables`, and read at run time from `lab.vars` (solution, mistakes,
checks), `self.vars` (topology, steps) and ${name} in file templates and the
README: per-trainee variants can later give each run its own values without
changing labs.

What a trainee reads is translated (docs/translating.md): text written in
methods goes through `self._()`, text declared at import time (the title,
the summary, the mistakes) is marked with `N_()` and translated here when
the lab is loaded, in the language chosen before (v6lab.i18n); ${names} are
filled in after translation.
"""

from __future__ import annotations

import dataclasses
import errno
import importlib.util
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable, Optional

from . import i18n, paths, userns
from ._core import Error, SpecError
from .errors import UnsupportedKernelError
from .grading import Grader, Step
from .i18n import _
from .topo import Topo

if TYPE_CHECKING:
    from .lab import Lab
    from .node import Node

Action = Callable[["Lab"], None]


# ${name} only: configs and READMEs are full of shell's $VAR, $$ and $(…),
# which must stay as they are. $${name} writes a literal ${name}.
_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(text: str, variables: dict[str, str], where: str = "") -> str:
    """Fills ${name} from variables; an unknown name is an error naming where."""
    def fill(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return "${"
        if m.group(1) not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise SpecError(f"{where}: unknown variable ${{{m.group(1)}}}",
                            [(where, "", f"unknown variable ${{{m.group(1)}}} (known: {known})")])
        return str(variables[m.group(1)])
    return _VARIABLE.sub(fill, text)


# Where per-node files may go: the node's own, writable directories.
NODE_FILE_ROOTS = ("etc", "var", "root", "srv")


def _where_in_lab(folder: Path, e: BaseException) -> str:
    """file:line of the innermost frame in the lab's folder, for messages
    that point at the lab, not at the library."""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if frame.filename.startswith(str(folder)):
            return f"{frame.filename}:{frame.lineno}"
    return str(folder / "lab.py")


@dataclass
class Mistake:
    """A common mistake, scripted: apply() runs instead of the solution of
    `step`, and grading must then fail exactly that step, with a message
    that names this cause. `expect` holds pieces of that message in
    English (${variables} allowed), all of which it must contain: a
    message that blames the wrong cause then fails the lab's test."""

    name: str
    step: str
    description: str
    apply: Action
    expect: tuple[str, ...] = ()


#: The TUN device. A userspace NAT64 (tayga) makes its interface with it.
TUN_DEVICE = "/dev/net/tun"

# A shell's exit status meaning "no such file" (the node probe below).
_TUN_ABSENT = 10


def _tun_sentence(err: int, error: str) -> str:
    """What an open of the TUN device that failed with errno `err` means
    for a lab, and what to do, in one sentence in the user's language."""
    if err in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return _("this machine has no TUN device ({file}: {error}): load the kernel's tun "
                 "module ('modprobe tun', kernel option CONFIG_TUN); a container must be "
                 "given the device").format(file=TUN_DEVICE, error=error)
    if err in (errno.EACCES, errno.EPERM):
        if os.geteuid() == 0 and userns.in_initial_userns():
            # Root opens any mode: what refuses it is a device cgroup (a
            # container's), and "run as root" would be no advice.
            return _("{file} cannot be opened even by root ({error}): the container must be "
                     "allowed the device").format(file=TUN_DEVICE, error=error)
        # Rootless, nodes share the host's device node, which a user
        # namespace cannot open past its mode (root mode makes each node
        # a device of its own, core/tools/node_root.cpp).
        return _("{file} is not accessible to this user, so a rootless lab cannot create TUN "
                 "interfaces: run v6lab as root, or allow it with 'chmod 0666 {file}' "
                 "(Debian's default mode)").format(file=TUN_DEVICE)
    return _("{file} cannot be opened ({error}), so no TUN interface can be made").format(
        file=TUN_DEVICE, error=error)


def tun_problem(node: Optional["Node"] = None) -> str:
    """Empty if the TUN device opens, else one sentence saying what is
    missing and what to do: the "tun" of `kernel_features`. Probed in
    this process (what each node's root may open, too), or, given a node,
    from inside it, which is the view its programs get (opening the device
    creates no interface)."""
    if node is None:
        try:
            os.close(os.open(TUN_DEVICE, os.O_RDWR | os.O_CLOEXEC))
        except OSError as e:
            return _tun_sentence(e.errno or 0, e.strerror or str(e))
        return ""
    r = node.cmd(f"[ -e {TUN_DEVICE} ] || exit {_TUN_ABSENT}; exec 3<>{TUN_DEVICE}")
    if r.returncode == 0:
        return ""
    # The shell names the error with strerror(): find which one.
    said = r.stderr.strip()
    err = errno.ENOENT if r.returncode == _TUN_ABSENT else next(
        (e for e in (errno.EACCES, errno.EPERM, errno.ENODEV, errno.ENXIO)
         if os.strerror(e) in said), 0)
    # TRANSLATORS: {why} is a sentence about the TUN device, seen from node {node}.
    return _("in node {node}, {why}").format(
        node=node.name, why=_tun_sentence(err, os.strerror(err) if err else said or "?"))


def kernel_feature_missing(feature: str) -> str:
    """Empty if this machine provides `feature` (see
    LabDefinition.kernel_features), else one sentence with the fix. The
    core probes link kinds and qdiscs in a throwaway namespace; "tun" is a
    device this process opens, and its advice depends on how v6lab runs
    (rootless or root), so it is answered here, translated."""
    if feature == "tun":
        return tun_problem()
    from . import _core
    return _core.kernel_feature_missing(feature)


class LabDefinition:
    """Subclass in labs/<id>/lab.py as `class Lab(LabDefinition)`."""

    id: str = ""
    title: str = ""
    level: str = "beginner"
    minutes: int = 30
    summary: str = ""
    order: int = 100

    # Kernel features the lab needs beyond namespaces, veth and bridges:
    # link kinds ("sit", "ip6tnl", "gre", "dummy", "vxlan", ...), "netem",
    # or "tun" (the TUN device, for a userspace NAT64 such as tayga).
    # Where one is missing the lab is refused before anything is built (and
    # skipped by the tests), with the kernel option or the fix.
    kernel_features: tuple[str, ...] = ()

    folder: Path = Path(".")
    solution: dict[str, Action] = {}
    mistakes: list[Mistake] = []
    # Defaults of the lab's variables; `vars` holds this run's values.
    variables: dict[str, str] = {}
    vars: dict[str, str] = {}

    def topology(self) -> Topo:
        raise NotImplementedError

    def setup(self, lab: "Lab") -> None:
        """The initial state, applied after the lab is built (e.g. a seeded
        fault). The default is none."""

    def steps(self) -> list[Step]:
        raise NotImplementedError

    @property
    def number(self) -> Optional[int]:
        """The lab's number in the curriculum, as README.md's table and the
        plan count: order / 10 (order 110 is lab 11), so labs yet to be
        written leave gaps instead of renumbering those after them. None
        for a lab whose order is no multiple of 10 (one slotted between two
        numbered labs) or that leaves order at its default (no place of its
        own: it would take lab 10's number)."""
        declared = "order" in vars(self) or any(
            "order" in vars(c) for c in type(self).__mro__ if c is not LabDefinition)
        if not declared or not isinstance(self.order, int) or self.order <= 0 \
                or self.order % 10:
            return None
        return self.order // 10

    # -- language ----------------------------------------------------------
    @property
    def domain(self) -> str:
        """The lab's gettext domain: its catalogues are
        locale/<lang>/LC_MESSAGES/<domain>.mo in its folder. The folder's
        name (which is the lab's id), as scripts/i18n names them."""
        return self.folder.name or self.id

    def _(self, message: str) -> str:
        """message in the current language: the lab's own catalogue, then
        the core's, then English. For text written in methods (steps(),
        setup()); xgettext extracts `self._("...")` like `_("...")`."""
        return i18n.lookup(i18n.lab_translation(self.folder, self.domain), message)

    @property
    def languages(self) -> list[str]:
        """English, then each language the lab has a compiled catalogue or a
        README in (what `v6lab labs` shows)."""
        found = set()
        base = self.folder / "locale"
        if base.is_dir():
            found |= {p.name for p in base.iterdir()
                      if (p / "LC_MESSAGES" / f"{self.domain}.mo").is_file()}
        found |= {lang for lang, _path in self.readmes()}
        found.discard(i18n.SOURCE_LANGUAGE)
        return [i18n.SOURCE_LANGUAGE] + sorted(found)

    def readmes(self) -> list[tuple[str, Path]]:
        """(language, path) of each README.<lang>.md beside README.md."""
        out = []
        for f in sorted(self.folder.glob("README.*.md")):
            lang = f.name[len("README."):-len(".md")]
            if lang and "." not in lang:
                out.append((lang, f))
        return out

    # -- derived -----------------------------------------------------------
    def initial_state(self, lab: "Lab") -> None:
        """What `v6lab start` does after building: the variables go with the
        lab (lab.vars), the lab's per-node files are placed, then setup()."""
        lab.meta["vars"] = dict(self.vars)
        self.place_files(lab)
        self.setup(lab)

    def node_files(self) -> list[tuple[str, str, str, int]]:
        """(node, path in the node, content, mode) for every file under
        nodes/<node>/, templates rendered. Errors name the file. A file the
        trainee reads may be translated: locale/<lang>/nodes/<node>/<same
        path> replaces it in that language."""
        out = []
        base = self.folder / "nodes"
        if not base.is_dir():
            return out
        overlays = [self.folder / "locale" / lang / "nodes" for lang in i18n.preferences()]
        for node_dir in sorted(base.iterdir()):
            for f in sorted(p for p in node_dir.rglob("*") if p.is_file() or p.is_symlink()):
                rel = f.relative_to(node_dir)
                if f.is_symlink() or rel.parts[0] not in NODE_FILE_ROOTS:
                    raise SpecError(f"{f}: not placed", [(str(f), "", "per-node files go under "
                                    + ", ".join(NODE_FILE_ROOTS) + " and may not be links")])
                f = next((o / node_dir.name / rel for o in overlays
                          if (o / node_dir.name / rel).is_file()
                          and not (o / node_dir.name / rel).is_symlink()), f)
                try:
                    text = f.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as e:
                    raise SpecError(f"{f}: {e}", [(str(f), "", f"cannot be read as UTF-8 text: {e}")]) from None
                path = "/" + str(rel)
                if path.endswith(".tmpl"):
                    path, text = path[:-5], render(text, self.vars, str(f))
                out.append((node_dir.name, path, text, f.stat().st_mode & 0o777))
        return out

    def place_files(self, lab: "Lab") -> None:
        for node, path, text, mode in self.node_files():
            if node not in lab:
                raise SpecError(f"{self.folder}/nodes/{node}: no such node",
                                [(str(self.folder / "nodes" / node), "",
                                  f"the topology has no node '{node}' (nodes: {', '.join(n.name for n in lab)})")])
            lab[node].cmd(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"',
                           "place", path, oct(mode)[2:]], input=text, check=True)

    def validate(self) -> None:
        """Loads what a lab is made of once, so that a broken lab is one
        error naming its file and line when it is loaded, never a traceback
        from check, hint or solve."""
        if not isinstance(self.order, int) or isinstance(self.order, bool):
            where = str(self.folder / "lab.py")
            raise SpecError(f"{where}: order must be a whole number (the curriculum position), "
                            f"not {self.order!r}", [(where, "order", "must be a whole number")])
        try:
            self.topology().to_spec()
            steps = self.steps()
            if not isinstance(steps, list) or not all(isinstance(s, Step) for s in steps):
                raise TypeError("steps() must return a list of Step")
            self.grader()  # unique ids, well-formed checks, known variables
        except SpecError:
            raise
        except Exception as e:
            where = _where_in_lab(self.folder, e)
            raise SpecError(f"{where}: {type(e).__name__}: {e}",
                            [(where, "", f"{type(e).__name__}: {e}")]) from None
        ids = {s.id for s in steps}
        for sid in self.solution:
            if sid not in ids:
                raise SpecError(f"{self.folder}/solution.py: step '{sid}' is not a step of the lab",
                                [(str(self.folder / "solution.py"), sid, "not a step of the lab")])
        for m in self.mistakes:
            if m.step not in ids:
                raise SpecError(f"{self.folder}/mistakes.py: mistake '{m.name}' targets unknown step "
                                f"'{m.step}'", [(str(self.folder / "mistakes.py"), m.name,
                                                 f"unknown step '{m.step}'")])
        self.node_files()
        self._check_translated_files()
        for readme in [self.folder / "README.md"] + [f for _lang, f in self.readmes()]:
            if readme.exists():
                render(readme.read_text(encoding="utf-8", errors="replace"), self.vars, str(readme))

    def _check_translated_files(self) -> None:
        """Each translated per-node file translates one of nodes/, and its
        ${variables} are known (a stray one would never be placed)."""
        for lang_dir in sorted((self.folder / "locale").glob("*/nodes")):
            for f in sorted(p for p in lang_dir.rglob("*") if p.is_file() or p.is_symlink()):
                original = self.folder / "nodes" / f.relative_to(lang_dir)
                if f.is_symlink() or not original.is_file():
                    raise SpecError(f"{f}: translates no file", [(str(f), "", f"{original} does not "
                                    "exist (a translation replaces a file of nodes/, and is no link)")])
                if f.name.endswith(".tmpl"):
                    render(f.read_text(encoding="utf-8", errors="replace"), self.vars, str(f))

    def missing_kernel_features(self) -> list[str]:
        """One sentence per feature this kernel lacks (probed, not guessed)."""
        return [m for m in (kernel_feature_missing(f) for f in self.kernel_features) if m]

    def require_kernel(self) -> None:
        missing = self.missing_kernel_features()
        if missing:
            raise self.unsupported("; ".join(missing))

    def unsupported(self, why: str) -> UnsupportedKernelError:
        """The refusal of this lab on this machine (exit code 7), for `why`:
        what require_kernel raises, and what setup() raises for a need
        that shows only once the nodes exist (e.g. tun_problem(node))."""
        return UnsupportedKernelError(_("lab {lab} cannot run on this machine: {why}").format(
            lab=self.id, why=why))

    def grader(self) -> Grader:
        """The lab's steps, with ${variables} in titles and hints filled in."""
        steps = self.steps()
        where = str(self.folder / "lab.py")
        for st in steps:
            st.title = render(st.title, self.vars, where)
            st.hints = [render(h, self.vars, where) for h in st.hints]
        return Grader(steps)

    @property
    def readme(self) -> Path:
        """The trainee README in the current language (README.<lang>.md),
        else the English README.md."""
        for lang in i18n.preferences():
            f = self.folder / f"README.{lang}.md"
            if f.is_file():
                return f
        return self.folder / "README.md"

    def readme_text(self) -> str:
        """The trainee README with this run's variables filled in."""
        try:
            return render(self.readme.read_text(encoding="utf-8"), self.vars, str(self.readme))
        except OSError:
            return ""

    def instructions(self) -> str:
        """The trainee README's first section after the title: what to do
        first, printed by `v6lab start`."""
        try:
            text = self.readme.read_text()
        except OSError:
            return ""
        text = render(text, self.vars, str(self.readme))
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
                raise Error(_("lab {lab}: the solution has no entry for step '{step}'").format(
                    lab=self.id, step=step.id))
            fn(lab)
            done.append(step.id)
            if step.id == upto:
                break
        return done


def labs_dir() -> Path:
    """The curriculum's folder."""
    checkout = paths.PACKAGE_DIR.parent.parent / "labs"
    return checkout if checkout.is_dir() else Path("/usr/share/v6lab/labs")


def labs_path() -> list[Path]:
    """The curriculum, then each folder of $V6LAB_LABS (colon-separated):
    extra labs come beside the curriculum, never instead of it."""
    out = [labs_dir()]
    for p in (os.environ.get("V6LAB_LABS") or "").split(":"):
        if p and Path(p).resolve() not in out:
            out.append(Path(p).resolve())
    return out


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
    d.vars = {k: str(v) for k, v in d.variables.items()}
    # The class keeps the English (N_) text; this instance has the
    # language chosen now, so a lab loaded again after set_language() is
    # in the new one.
    d.title = render(d._(d.title), d.vars, str(lab_py))
    d.summary = render(d._(d.summary), d.vars, str(lab_py))
    d.solution = {}
    d.mistakes = []
    if (folder / "solution.py").exists():
        d.solution = getattr(_import(pkg, "solution", folder / "solution.py"), "SOLUTION", {})
    if (folder / "mistakes.py").exists():
        mistakes = getattr(_import(pkg, "mistakes", folder / "mistakes.py"), "MISTAKES", [])
        d.mistakes = [_translated(d, m) for m in mistakes] if isinstance(mistakes, list) else mistakes
    return d


def _translated(d: LabDefinition, m: Mistake) -> Mistake:
    """A copy of m with its description in the current language (the
    module's MISTAKES keep the English, for the next load)."""
    if not isinstance(m, Mistake):
        return m  # validate() names what is wrong with it
    return dataclasses.replace(m, description=render(d._(m.description), d.vars,
                                                     str(d.folder / "mistakes.py")))


def scan_labs(roots: Optional[list[Path]] = None) -> tuple[dict[str, LabDefinition], list[str]]:
    """Every lab of the labs path, loaded one by one, in curriculum order,
    and one line per broken lab (a broken lab breaks no other)."""
    labs: list[LabDefinition] = []
    broken: list[str] = []
    for root in roots if roots is not None else labs_path():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if not (folder / "lab.py").exists():
                continue
            try:
                d = load_lab(folder)
                d.validate()
            except SpecError as e:
                broken.append(str(e.args[0]))
                continue
            except Exception as e:  # noqa: BLE001 - a lab's bug breaks that lab only
                broken.append(f"{folder / 'lab.py'}: {type(e).__name__}: {e}")
                continue
            if any(x.id == d.id for x in labs):
                broken.append(f"{folder}: a lab called '{d.id}' is already loaded from "
                              f"{next(x.folder for x in labs if x.id == d.id)}")
                continue
            labs.append(d)
    return {d.id: d for d in sorted(labs, key=lambda d: (d.order, d.id))}, broken


def load_labs(root: Optional[Path] = None) -> dict[str, LabDefinition]:
    """Every good lab under root (default: the labs path), in curriculum
    order; broken ones are left out (scan_labs says which)."""
    return scan_labs([root] if root else None)[0]


def find_lab(lab_id: str, root: Optional[Path] = None) -> LabDefinition:
    labs, broken = scan_labs([root] if root else None)
    if lab_id in labs:
        return labs[lab_id]
    for line in broken:  # the lab is there but broken: say why (exit 3)
        if re.search(rf"/{re.escape(lab_id)}(/|:)", line):
            raise SpecError(line, [(line.split(":", 1)[0], "", line.split(": ", 1)[-1])])
    raise Error(_("no lab called '{lab}' (labs: {labs})").format(
        lab=lab_id, labs=", ".join(labs) or _("none")))
