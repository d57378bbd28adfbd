"""v6lab in a Kubernetes pod with `hostUsers: false`, without Kubernetes: the
pod is a user namespace of its own with only a container's capabilities
(tests/python/podsim.py), and v6lab's rootless mode nests the lab's user
namespace inside it (docs/scaling.md).

Real labs run there (start, exec, check, stop), with containerd's default
capabilities and with exactly the security context of
deploy/kubernetes/statefulset.yaml (its capabilities, no_new_privs, the
seccomp profile of deploy/kubernetes/node, the image's entry point). What a
pod may lack — an unmasked /proc, user namespaces under the runtime's
default seccomp profile, /dev/net/tun — makes a verb fail in one sentence
and `v6lab doctor` name the fix. Every pod is killed by its PID afterwards,
and nothing of it (no process of its id range) may remain.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(Path(__file__).parent))
import podsim  # noqa: E402

PY = "/usr/bin/python3"
DEPLOY = ROOT / "deploy"
IDS = 65536


def _can_run() -> str:
    if os.geteuid() != 0:
        return "making a pod's user namespace needs root"
    for tool in ("nsenter", "setpriv", "newuidmap"):
        if not shutil.which(tool):
            return f"{tool} is missing (Debian packages util-linux, uidmap)"
    return ""


class Pod:
    """A running simulated pod; exec() runs a command in it as kubectl exec
    would, with the container's security context."""

    def __init__(self, base: int, ids: int, proc: subprocess.Popen, pid: int,
                 caps: tuple[str, ...], uid: int, no_new_privs: bool,
                 seccomp: Optional[str]) -> None:
        self.base, self.ids, self.proc, self.pid = base, ids, proc, pid
        self.caps, self.uid, self.no_new_privs, self.seccomp = caps, uid, no_new_privs, seccomp

    def argv(self, args: list[str], seccomp: Optional[str] = None) -> list[str]:
        env = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               f"PYTHONPATH={ROOT / 'bindings'}", "PYTHONDONTWRITEBYTECODE=1",
               f"HOME=/tmp/home-{self.uid}", "V6LAB_LANG=en", "LANG=C.UTF-8", "COLUMNS=200"]
        return podsim.enter_argv(self.pid, [*env, *args], caps=self.caps, uid=self.uid,
                                 gid=self.uid, no_new_privs=self.no_new_privs,
                                 seccomp=seccomp or self.seccomp)

    def exec(self, args: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(args), capture_output=True, text=True, timeout=timeout)

    def v6lab(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return self.exec(["sh", "-c", 'mkdir -p "$HOME" && exec "$@"', "sh",
                          PY, "-m", "v6lab", *args], timeout=timeout)


def _processes_in_range(base: int, ids: int) -> list[int]:
    """Host PIDs of every process whose uid lies in the pod's id range."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                uid = os.stat(f"/proc/{pid}").st_uid
            except OSError:
                continue
            if base <= uid < base + ids:
                out.append(int(pid))
    return out


@pytest.fixture
def make_pod() -> Iterator:
    why = _can_run()
    if why:
        pytest.skip(why)
    made: list[Pod] = []

    def make(*, ids: int = IDS, masked: bool = False, tun: bool = False,
             caps: tuple[str, ...] = podsim.CONTAINERD_CAPS, uid: int = 0,
             no_new_privs: bool = False, seccomp: Optional[str] = None,
             subid: tuple[str, ...] = ("root:1:65535",)) -> Pod:
        # A range of its own, far above the host's and other tests' ids.
        base = 1_500_000_000 + (os.getpid() % 500) * 4 * 65536 + len(made) * 2 * 65536
        assert not _processes_in_range(base, ids)
        argv = [PY, str(Path(podsim.__file__)), "up", "--base", str(base), "--ids", str(ids)]
        argv += ["--masked"] if masked else []
        argv += ["--tun"] if tun else []
        for line in subid:
            argv += ["--subid", line]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            proc.kill()
            pytest.fail(f"the pod did not start: {line}{proc.communicate()[1]}")
        pod = Pod(base, ids, proc, int(line), caps, uid, no_new_privs, seccomp)
        made.append(pod)
        return pod

    try:
        yield make
    finally:
        for pod in made:
            # The pod's init takes every process of its PID namespace with it.
            for pid in (pod.pid, pod.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            pod.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        for pod in made:
            while _processes_in_range(pod.base, pod.ids) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _processes_in_range(pod.base, pod.ids), "processes of the pod remain"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _descendants(pid: int) -> list[int]:
    """Host PIDs below pid, nearest first."""
    children: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                ppid = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(0), []):
            out.append(c)
            todo.append(c)
    return out


def _check(pod: Pod, lab: str) -> dict:
    r = pod.v6lab("check", "--lab", lab, "--format", "json")
    assert r.stdout.strip(), r.stderr
    return json.loads(r.stdout)


def _run_link_local(pod: Pod, name: str) -> None:
    """The link-local lab end to end in the pod: start, a trainee's fix by
    exec, a check that sees it, stop."""
    r = pod.v6lab("start", "link-local", "--name", name)
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        # Node root in the lab: uid 0 of a namespace two levels below the host.
        r = pod.v6lab("exec", "--lab", name, "h1", "--", "sh", "-c",
                      "id -u; cat /proc/self/uid_map | wc -l; mount | grep ' /sys '")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[0] == "0"
        # The pod's /sys is read-only, so the node's is too (the kernel's rule).
        assert "ro," in r.stdout.split("\n", 2)[2]
        before = _check(pod, name)
        assert before["self_graded"] is True
        first = before["steps"][0]
        assert first["id"] == "ipv6-on" and first["earned"] == 0
        r = pod.v6lab("exec", "--lab", name, "h1", "--", "sysctl", "-w",
                      "net.ipv6.conf.eth0.disable_ipv6=0")
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 10
        while True:  # the link-local address takes DAD's second to appear
            after = _check(pod, name)
            if after["steps"][0]["earned"] > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert after["steps"][0]["earned"] == after["steps"][0]["possible"] > 0, after["steps"][0]
    finally:
        r = pod.v6lab("stop", "--lab", name)
    assert r.returncode == 0, r.stderr
    assert name not in pod.v6lab("ls").stdout


def test_lab_runs_in_a_pod_with_containerds_capabilities(make_pod) -> None:
    pod = make_pod()
    r = pod.exec(["grep", "^CapEff", "/proc/self/status"])
    # containerd's default set, nothing more (no CAP_SYS_ADMIN: 0xa80425fb).
    assert int(r.stdout.split()[1], 16) == 0xA80425FB, r.stdout
    assert pod.exec(["cat", "/proc/self/uid_map"]).stdout.split() == ["0", str(pod.base), str(IDS)]
    _run_link_local(pod, "pod-ll")


def _manifest_context() -> tuple[tuple[str, ...], bool, str, list[str]]:
    """The trainee container's capabilities, no_new_privs, seccomp profile
    file and command, as deploy/kubernetes/statefulset.yaml gives them."""
    sts = yaml.safe_load((DEPLOY / "kubernetes/statefulset.yaml").read_text())
    spec = sts["spec"]["template"]["spec"]
    container = spec["containers"][0]
    sc = container["securityContext"]
    assert sc["capabilities"]["drop"] == ["ALL"]
    caps = tuple(c.lower() for c in sc["capabilities"]["add"])
    profile = Path(spec["securityContext"]["seccompProfile"]["localhostProfile"]).name
    return caps, sc["allowPrivilegeEscalation"] is False, \
        str(DEPLOY / "kubernetes/node" / profile), container["command"]


def test_lab_runs_with_the_manifests_security_context(make_pod) -> None:
    """The StatefulSet's pod as it is: only SETUID, SETGID, SETFCAP,
    no_new_privs, v6lab's seccomp profile, and the image's entry point
    starting the ConfigMap's lab, stopping it on SIGTERM."""
    caps, nnp, profile, command = _manifest_context()
    assert command == ["/usr/local/bin/v6lab-pod"]
    pod = make_pod(caps=caps, no_new_privs=nnp, seccomp=profile)
    r = pod.exec(["grep", "-E", "^(CapEff|NoNewPrivs|Seccomp):", "/proc/self/status"])
    status = dict(line.split(":\t") for line in r.stdout.strip().splitlines())
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2", status
    _run_link_local(pod, "pod-manifest")
    # The entry point, as the pod's main process.
    entry = pod.argv(["sh", "-c", 'mkdir -p "$HOME" && exec "$@"', "sh",
                      str(DEPLOY / "container/v6lab-pod")])
    entry.insert(entry.index("env") + 2, "V6LAB_START_LAB=link-local")
    entry.insert(entry.index("env") + 2, f"V6LAB_COMMAND={PY} -m v6lab")
    main = subprocess.Popen(entry, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert main.stdout is not None
        lines = [main.stdout.readline(), main.stdout.readline()]
        assert lines == ["v6lab-pod: lab link-local is up\n", "v6lab-pod: ready\n"], \
            "".join(lines) + (main.stderr.read() if main.poll() is not None else "")
        assert _check(pod, "link-local")["lab"] == "link-local"
        # SIGTERM to the entry point itself, as the runtime sends it when the
        # pod is deleted.
        script = [p for p in _descendants(main.pid) if "v6lab-pod" in _cmdline(p)]
        assert script, "the entry point is not running"
        os.kill(script[0], signal.SIGTERM)
        assert main.wait(timeout=30) == 0
    finally:
        if main.poll() is None:
            main.kill()
            main.wait()
    assert "link-local" not in pod.v6lab("ls").stdout


def test_masked_proc_is_reported_with_its_fix(make_pod) -> None:
    """procMount: Default: runc's masks over /proc make the kernel refuse
    the nodes a /proc of their own, so no lab starts; doctor says why."""
    pod = make_pod(masked=True)
    r = pod.v6lab("start", "link-local", "--name", "pod-masked")
    assert r.returncode != 0
    # Whichever comes first: a node's /proc, or a sysctl under the pod's
    # read-only /proc/sys. One sentence either way.
    assert "mount /proc" in r.stderr or "sysctl" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = pod.v6lab("doctor", "--format", "json")
    found = {f["name"]: f for f in json.loads(r.stdout)}
    proc = found["unmasked /proc"]
    assert proc["status"] == "missing" and "/proc/sys" in proc["found"]
    assert "procMount: Unmasked" in proc["fix"]
    assert r.returncode != 0  # not ready


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the pod sees (its /tmp is its own), removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="v6lab-podtest-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_default_seccomp_refusal_is_reported_with_its_fix(make_pod, shared_dir) -> None:
    """The runtime's default seccomp profile refuses unshare() without
    CAP_SYS_ADMIN (moby's, containerd's and CRI-O's): the same rule here."""
    profile = shared_dir / "runtime-default-unshare.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    os.chmod(profile, 0o644)
    pod = make_pod(seccomp=str(profile))
    r = pod.v6lab("start", "link-local", "--name", "pod-seccomp")
    assert r.returncode == 8, r.stdout + r.stderr
    assert "user namespaces" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = pod.v6lab("doctor", "--format", "json")
    found = {f["name"]: f for f in json.loads(r.stdout)}
    assert found["user namespaces"]["status"] == "missing"
    assert "seccomp" in found["user namespaces"]["fix"]
    assert "docs/scaling.md" in found["user namespaces"]["fix"]


def test_missing_tun_device_is_reported_with_its_fix(make_pod) -> None:
    pod = make_pod()
    found = {f["name"]: f for f in json.loads(pod.v6lab("doctor", "--format", "json").stdout)}
    tun = found["TUN device"]
    assert tun["status"] == "missing" and "device plugin" in tun["fix"], tun
    assert found["unmasked /proc"]["status"] == "ok"
    if not Path("/dev/net/tun").exists():
        return
    # With the device a device plugin adds, the finding is no longer "missing".
    pod = make_pod(tun=True)
    found = {f["name"]: f for f in json.loads(pod.v6lab("doctor", "--format", "json").stdout)}
    assert found["TUN device"]["status"] in ("ok", "limited"), found["TUN device"]


def test_a_forged_namespace_note_is_ignored(make_pod) -> None:
    """V6LAB_OUTER_UID (set by v6lab when it enters its namespace) names
    the records' owner only in that very namespace: on the host, or for
    another namespace, it is ignored."""
    probe = [PY, "-c", "from v6lab import userns; print(userns.host_uid(), "
                       "userns.in_v6lab_userns())"]
    host_ns = os.stat("/proc/self/ns/user").st_ino
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
           "V6LAB_OUTER_UID": f"12345:{host_ns}"}
    r = subprocess.run(probe, capture_output=True, text=True, env=env, timeout=30)
    assert r.stdout.split() == [str(os.getuid()), "False"], r.stdout + r.stderr
    pod = make_pod()
    pod_ns = int(pod.exec(["stat", "-L", "-c", "%i", "/proc/self/ns/user"]).stdout)
    for note, expected in ((f"777:{pod_ns + 1}", ["0", "False"]), (f"777:{pod_ns}", ["777", "True"])):
        r = pod.exec(["env", f"V6LAB_OUTER_UID={note}", *probe])
        assert r.stdout.split() == expected, (note, r.stdout + r.stderr)
