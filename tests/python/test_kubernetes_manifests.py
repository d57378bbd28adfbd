"""deploy/: the Kubernetes manifests for a class and the image definition,
checked offline (no cluster, no registry here).

- every manifest is YAML and valid against the JSON schema of the
  Kubernetes 1.36 API objects it uses (deploy/kubernetes/schema: vendored,
  small, with its source), and the schema is not vacuous: a misspelt field,
  a wrong type, a missing required field and an unknown enum value fail;
- the rules the pods rely on: hostUsers false, no privileged, hostPath,
  host namespaces or ports anywhere; capabilities only those Pod Security
  "baseline" allows; no API token in a trainee's pod; the seccomp profile
  the pods name exists and leaves v6lab's system calls alone;
- the Containerfile parses, COPYs files that exist, and installs only
  packages scripts/setup names (or libraries those depend on), all of
  those it needs at run time.

The pods themselves run in tests/python/test_pod_mode.py.
"""

from __future__ import annotations

import copy
import ctypes
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml

from conftest import ROOT

K8S = ROOT / "deploy/kubernetes"
SCHEMA_FILE = K8S / "schema/k8s-1.36.schema.json"
CONTAINERFILE = ROOT / "deploy/container/Containerfile"
# Capabilities Pod Security "baseline" lets a container add.
BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                 "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents() -> Iterator[tuple[Path, int, dict]]:
    for path in manifests():
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                yield path, i, doc


def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def validator_for(doc: dict) -> jsonschema.Draft7Validator:
    s = schema()
    model = s["x-roots"].get(f"{doc.get('apiVersion')} {doc.get('kind')}")
    assert model, f"no schema for apiVersion {doc.get('apiVersion')} kind {doc.get('kind')}"
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{model}",
                                       "definitions": s["definitions"]})


def errors(doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator_for(doc).iter_errors(doc)]


def test_schema_is_small_and_says_where_it_comes_from() -> None:
    assert SCHEMA_FILE.stat().st_size < 200_000
    s = schema()
    assert s["x-kubernetes-version"] == "1.36"
    assert "kubernetes-client/python" in s["$comment"] and "Apache-2.0" in s["$comment"]
    jsonschema.Draft7Validator.check_schema(s)
    # Every definition a reference names is in the file.
    refs = set(re.findall(r'"#/definitions/(\w+)"', SCHEMA_FILE.read_text()))
    assert refs <= set(s["definitions"]), refs - set(s["definitions"])


@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_manifest_is_valid_against_the_api_schema(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, f"{path}: no object"
    for i, doc in enumerate(docs):
        problems = errors(doc)
        assert not problems, f"{path.name} document {i + 1}: " + "; ".join(problems)


def _statefulset() -> dict:
    return yaml.safe_load((K8S / "statefulset.yaml").read_text())


@pytest.mark.parametrize("change, expected", [
    (lambda s: s["spec"]["template"]["spec"].update(hostUser=False), "hostUser"),
    (lambda s: s["spec"]["template"]["spec"].update(hostUsers="false"), "is not of type"),
    (lambda s: s["spec"].pop("selector"), "'selector' is a required property"),
    (lambda s: s["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(
        procMount="unmasked"), "is not one of"),
    (lambda s: s["spec"]["template"]["spec"]["containers"][0].pop("name"), "'name'"),
    (lambda s: s.update(kind="Deployment"), "no schema"),
])
def test_schema_catches_what_the_api_server_would_refuse(change, expected: str) -> None:
    doc = copy.deepcopy(_statefulset())
    change(doc)
    try:
        found = "; ".join(errors(doc))
    except AssertionError as e:
        found = str(e)
    assert expected in found, found


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}.{k}", v
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def _pod_specs() -> Iterator[tuple[str, dict]]:
    for path, _i, doc in documents():
        spec = doc.get("spec", {})
        if doc["kind"] == "Pod":
            yield path.name, spec
        elif "template" in spec:
            yield path.name, spec["template"]["spec"]


def test_nothing_reaches_the_host() -> None:
    """No privileged container, host path, host namespace or host port in
    any manifest; every pod in a user namespace of its own."""
    forbidden = {"privileged": True, "hostNetwork": True, "hostPID": True, "hostIPC": True}
    for path, _i, doc in documents():
        for where, value in _walk(doc):
            key = where.rsplit(".", 1)[-1]
            assert key != "hostPath", f"{path.name}: {where}"
            assert key != "hostPort", f"{path.name}: {where}"
            assert not (key in forbidden and value == forbidden[key]), f"{path.name}: {where}"
            if key == "allowPrivilegeEscalation":
                assert value is False, f"{path.name}: {where}"
    specs = list(_pod_specs())
    assert specs, "no pod template in deploy/kubernetes"
    for name, spec in specs:
        assert spec.get("hostUsers") is False, f"{name}: hostUsers must be false"
        assert spec.get("automountServiceAccountToken") is False, f"{name}: API token mounted"


def test_containers_hold_only_what_rootless_mode_needs() -> None:
    for name, spec in _pod_specs():
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            caps = sc["capabilities"]
            assert caps["drop"] == ["ALL"], f"{name}: {c['name']} keeps the runtime's defaults"
            assert set(caps["add"]) <= BASELINE_CAPS, f"{name}: {caps['add']}"
            assert set(caps["add"]) == {"SETUID", "SETGID", "SETFCAP"}, caps["add"]
            # Unmasked is allowed only in a user namespace (the API server says so).
            assert sc.get("procMount") == "Unmasked" and spec["hostUsers"] is False
            assert sc["runAsUser"] == 0  # the pod's root: an unprivileged id on the node
            assert sc.get("readOnlyRootFilesystem") is True
            assert "memory" in c["resources"]["requests"] and "memory" in c["resources"]["limits"]


def test_profiles_the_pods_name_are_shipped() -> None:
    for name, spec in _pod_specs():
        sec = spec["securityContext"]
        seccomp = sec["seccompProfile"]
        assert seccomp["type"] == "Localhost"
        assert (K8S / "node" / Path(seccomp["localhostProfile"]).name).is_file(), seccomp
        apparmor = sec["appArmorProfile"]
        assert apparmor["type"] == "Localhost"
        text = (K8S / "node" / f"{apparmor['localhostProfile']}.apparmor").read_text()
        assert re.search(rf"^profile {re.escape(apparmor['localhostProfile'])} ", text, re.M)
        assert re.search(r"^\s*mount,$", text, re.M) and re.search(r"^\s*pivot_root,$", text, re.M)


# What the core and the nodes need (namespaces, mounts, id-mapped mounts).
V6LAB_SYSCALLS = ("unshare", "setns", "clone", "clone3", "mount", "umount2", "pivot_root",
                  "sethostname", "open_tree", "move_mount", "mount_setattr", "fsopen",
                  "fsconfig", "fsmount", "pidfd_open", "pidfd_send_signal", "prctl", "capset")


def test_seccomp_profile_is_well_formed_and_spares_v6lab() -> None:
    profile = json.loads((K8S / "node/v6lab-trainee.json").read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    denied: set[str] = set()
    for rule in profile["syscalls"]:
        assert set(rule) <= {"names", "action", "errnoRet", "args"}, rule
        assert rule["action"] == "SCMP_ACT_ERRNO" and not rule.get("args")
        denied |= set(rule["names"])
    assert not denied & set(V6LAB_SYSCALLS), denied & set(V6LAB_SYSCALLS)
    # Names libseccomp knows on some architecture (a typo would silently deny nothing).
    unknown = [n for n in denied if lib.seccomp_syscall_resolve_name(n.encode()) < 0
               and n not in ("vm86", "vm86old", "stime", "create_module", "get_kernel_syms",
                             "query_module", "nfsservctl", "clock_adjtime64",
                             "clock_settime64")]
    assert not unknown, unknown
    # What kernels' attack surface the profile closes, at least.
    assert {"kexec_load", "init_module", "finit_module", "bpf", "keyctl",
            "open_by_handle_at"} <= denied


def test_kustomization_lists_every_class_manifest() -> None:
    k = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(k["resources"])
    assert all((K8S / r).is_file() for r in listed), listed
    # All but the per-trainee RBAC example, which is made once per trainee.
    assert listed == {p.name for p in manifests()} - {"rbac-trainee-example.yaml"}


# ----- the image definition

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK",
                "SHELL"}


def containerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in CONTAINERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            word, _sep, rest = pending.strip().partition(" ")
            out.append((word, rest.strip()))
            pending = ""
    assert not pending, "the Containerfile ends in a continuation line"
    return out


def setup_packages() -> dict[str, str]:
    """scripts/setup's packages, each with the comment of its group."""
    text = (ROOT / "scripts/setup").read_text()
    body = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    assert body, "scripts/setup: no packages=( ... ) list"
    out, group, in_comment = {}, "", False
    for line in body.group(1).splitlines():
        line = line.strip()
        if line.startswith("#"):
            # A group's comment is its first line; the next lines go on with it.
            group = group if in_comment else line
            in_comment = True
            continue
        in_comment = in_comment and not line
        for p in line.split():
            out[p] = group
    return out


# scripts/setup's packages that only the tests use.
TEST_ONLY = {"python3-pytest", "python3-jsonschema"}


def runtime_packages() -> set[str]:
    """scripts/setup's packages a lab needs at run time: not its build,
    catalogue and fuzzing tools, nor what only the tests use."""
    build = ("# build", "# translation catalogues", "# fuzzing")
    return {p for p, g in setup_packages().items()
            if not g.startswith(build) and p not in TEST_ONLY}


def image_packages() -> set[str]:
    out = set()
    for word, rest in containerfile():
        if word == "RUN" and "apt-get install" in rest:
            for cmd in rest.split("&&"):
                if "apt-get install" in cmd:
                    out |= {w for w in shlex.split(cmd.split("apt-get install", 1)[1])
                            if not w.startswith("-")}
    return out


def test_containerfile_parses_and_copies_what_exists() -> None:
    steps = containerfile()
    assert {w for w, _ in steps} <= INSTRUCTIONS, {w for w, _ in steps} - INSTRUCTIONS
    froms = [rest for w, rest in steps if w == "FROM"]
    assert froms[0] == "debian:12 AS build" and froms[-1] == "debian:12"
    stages = {f.split(" AS ")[1] for f in froms if " AS " in f}
    for word, rest in steps:
        if word == "COPY":
            args = rest.split()
            if args[0].startswith("--from="):
                assert args[0][len("--from="):] in stages, rest
                continue
            for src in args[:-1]:
                assert (ROOT / src).exists(), f"Containerfile: COPY {src}: no such file"
    # The build stage builds with scripts/setup, as a developer's machine does.
    assert ("RUN", "/opt/v6lab/scripts/setup") in steps
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd == ["/usr/local/bin/v6lab-pod"]
    assert _statefulset()["spec"]["template"]["spec"]["containers"][0]["command"] == cmd
    r = subprocess.run(["sh", "-n", str(ROOT / "deploy/container/v6lab-pod")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _depends(package: str) -> set[str]:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", package], capture_output=True,
                       text=True)
    return {re.split(r"[ (:]", alt.strip())[0] for dep in r.stdout.split(",")
            for alt in dep.split("|") if alt.strip()}


def test_image_installs_scripts_setups_runtime_packages_only() -> None:
    image = image_packages()
    known = set(setup_packages())
    assert image, "the Containerfile installs no package"
    extra = image - known
    # Only shared libraries that setup's -dev packages bring (checked with dpkg here).
    libraries = set().union(*(_depends(p) for p in known if p.endswith("-dev")))
    if extra - libraries and not libraries:
        pytest.skip("dpkg-query knows none of scripts/setup's -dev packages on this machine")
    assert extra <= libraries, f"not from scripts/setup: {sorted(extra - libraries)}"
    assert not image & (known - runtime_packages()), "build tools in the final image"
    missing = runtime_packages() - image
    assert not missing, f"scripts/setup's runtime packages missing from the image: {missing}"
