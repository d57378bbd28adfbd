"""A Kubernetes pod with `hostUsers: false`, as far as the kernel sees one,
made here without Kubernetes: what the pod tests (test_pod_mode.py) and the
capacity benchmark (tests/bench/pod_capacity.py) run v6lab in.

What containerd + runc give such a pod's container, and this reproduces:

- its own user namespace, ids 0..65535 mapped to a range of host ids no one
  else uses (kubelet picks one per pod; `--ids` is kubelet's `idsPerPod`),
  and its own mount, PID, network, UTS, IPC and cgroup namespaces;
- a fresh /proc, /sys read-only, /dev a tmpfs with the usual few devices
  (no /dev/net/tun unless a device plugin adds it: `--tun`), /tmp and /run
  its own;
- with `--masked`, runc's masked and read-only /proc and /sys paths
  (procMount: Default); without it, procMount: Unmasked;
- processes that enter it (`kubectl exec`) with only the container's
  capabilities: containerd's default set (`CONTAINERD_CAPS`) unless told
  otherwise, in every set (bounding too), and no_new_privs when
  allowPrivilegeEscalation is false;
- the image's setuid newuidmap/newgidmap (owned by the pod's root);
- optionally a seccomp filter from a profile in the OCI/Kubernetes JSON
  format (deny-list profiles only: no argument conditions), loaded through
  libseccomp as runc loads it.

Not reproduced: the image's own root filesystem (the host's is used, read
through the mapping, so host files show as nobody's), AppArmor (not enabled
on this machine's kernel), cgroup limits.

Run as root: `podsim.py up ...` prints the host PID of the pod's init on
its first line and keeps the pod until it is killed; the pod dies with it
(PR_SET_PDEATHSIG down the chain, and the PID namespace's init takes every
process of the pod with it). `enter_argv()` gives the command line that
runs a program in the pod.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from pathlib import Path
from typing import Optional

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x2000000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1

# containerd's default capabilities for a container (pkg/oci populateDefaultUnixSpec;
# Docker's are the same): what a pod's root holds unless securityContext adds or drops.
CONTAINERD_CAPS = ("chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid",
                   "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
                   "audit_write")
# CRI-O's default_capabilities (since 1.18): fewer.
CRIO_CAPS = ("chown", "dac_override", "fsetid", "fowner", "setgid", "setuid", "setpcap",
             "net_bind_service", "kill")

# runc's (and kubelet's DefaultProcMountMaskedPaths/ReadonlyPaths) masks.
MASKED = ("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
          "/sys/firmware", "/sys/devices/virtual/powercap")
READONLY = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src: Optional[str], dst: str, fstype: Optional[str], flags: int,
           data: Optional[str] = None) -> None:
    _check(_libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {fstype or src} on {dst}")


def _bind_file(src: str, dst: str, flags: int = 0) -> None:
    _mount(src, dst, None, MS_BIND)
    if flags:
        _mount(None, dst, None, MS_REMOUNT | MS_BIND | flags)


def _mask(paths: tuple[str, ...]) -> None:
    for p in paths:
        if not os.path.exists(p):
            continue
        if os.path.isdir(p):
            _mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0")
        else:
            _bind_file("/dev/null", p)


def _readonly(paths: tuple[str, ...]) -> None:
    for p in paths:
        if os.path.exists(p):
            _mount(p, p, None, MS_BIND | MS_REC)
            _mount(None, p, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _setup_pod(args: argparse.Namespace) -> None:
    """The container's filesystem view, made as root of the pod's user
    namespace (as runc does before it drops capabilities)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64m")
    # The host's /dev, reachable under a private name just long enough to
    # bind its few devices into the pod's own /dev.
    old = "/run/.podsim-olddev"
    os.mkdir(old)
    _mount("/dev", old, None, MS_BIND | MS_REC)
    _make_dev(old, args.tun)
    _check(_libc.umount2(old.encode(), 2), "detach the host's /dev")
    os.rmdir(old)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=1g")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (0 if args.sys_rw else MS_RDONLY))
    if args.masked:
        _mask(MASKED)
        _readonly(READONLY)
    # The image's /etc/subuid and /etc/subgid.
    etc = Path("/run/.podsim-etc")
    etc.mkdir()
    for name in ("subuid", "subgid"):
        (etc / name).write_text("".join(f"{line}\n" for line in args.subid))
        if Path(f"/etc/{name}").exists():
            _bind_file(str(etc / name), f"/etc/{name}", MS_RDONLY)
    _image_setuid_tools()
    _check(_libc.sethostname(b"trainee-0", 9), "sethostname")


def _image_setuid_tools() -> None:
    """The image's newuidmap and newgidmap: setuid root of the pod (the
    host's are owned by the host's root, unmapped here, so they would run
    as nobody). Copies on a tmpfs of the pod mounted without nosuid."""
    bin_dir = "/run/.podsim-bin"
    os.mkdir(bin_dir)
    _mount("tmpfs", bin_dir, "tmpfs", MS_NODEV, "mode=755,size=4m")
    for tool in ("newuidmap", "newgidmap"):
        host = f"/usr/bin/{tool}"
        if not os.path.exists(host):
            continue
        copy = f"{bin_dir}/{tool}"
        Path(copy).write_bytes(Path(host).read_bytes())
        os.chown(copy, 0, 0)
        os.chmod(copy, 0o4755)
        _bind_file(copy, host)


def _make_dev(old: str, tun: bool) -> None:
    """/dev as runc makes it in a user namespace: a tmpfs with the host's
    null, zero, full, random, urandom and tty bound in (from old)."""
    _mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755,size=65536k")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        Path(f"/dev/{name}").touch()
        _mount(f"{old}/{name}", f"/dev/{name}", None, MS_BIND)
    os.mkdir("/dev/pts")
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    os.symlink("pts/ptmx", "/dev/ptmx")
    os.mkdir("/dev/shm")
    _mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k")
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        os.symlink(f"/proc/self/fd/{fd}", f"/dev/{name}")
    os.symlink("/proc/self/fd", "/dev/fd")
    if tun:  # what a device plugin (e.g. generic-device-plugin's squat.ai/tun) adds
        os.mkdir("/dev/net")
        Path("/dev/net/tun").touch()
        _mount(f"{old}/net/tun", "/dev/net/tun", None, MS_BIND)


def _pod_init() -> None:
    """PID 1 of the pod: reaps orphans until killed (like the pause process)."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        try:
            os.wait()
        except ChildProcessError:
            signal.pause()


def up(args: argparse.Namespace) -> None:
    r, w = os.pipe()
    r2, w2 = os.pipe()
    child = os.fork()
    if child == 0:  # the pod's creator (runc's init, in effect)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.close(r)
        os.close(w2)
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS
                             | CLONE_NEWIPC | CLONE_NEWCGROUP), "unshare the pod's namespaces")
        os.write(w, b"u")
        os.read(r2, 1)  # the maps are written
        os.setresgid(0, 0, 0)
        os.setgroups([])
        os.setresuid(0, 0, 0)
        # A change of credentials clears the parent-death signal: set it again.
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        init = os.fork()
        if init == 0:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            try:
                _setup_pod(args)
            except OSError as e:
                os.write(w, f"E{e}\n".encode())
                os._exit(1)
            os.write(w, b"R")
            os.close(w)
            devnull = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            _pod_init()
        os.write(w, f"P{init}\n".encode())
        os.close(w)
        os._exit(os.waitpid(init, 0)[1] >> 8)
    os.close(w)
    os.close(r2)
    assert os.read(r, 1) == b"u"
    Path(f"/proc/{child}/uid_map").write_text(f"0 {args.base} {args.ids}\n")
    Path(f"/proc/{child}/gid_map").write_text(f"0 {args.base} {args.ids}\n")
    os.write(w2, b"g")
    data = b""
    while chunk := os.read(r, 4096):  # until both children closed their end
        data += chunk
    text = data.decode()
    if "E" in text or "R" not in text:
        sys.stderr.write("podsim: the pod's setup failed: " + text.split("E", 1)[-1] + "\n")
        sys.exit(1)
    pid = int(text.split("P", 1)[1].split("\n", 1)[0])
    print(pid, flush=True)
    os.waitpid(child, 0)


def enter_argv(pod_pid: int, argv: list[str], caps: tuple[str, ...] = CONTAINERD_CAPS,
               uid: int = 0, gid: int = 0, no_new_privs: bool = False,
               seccomp: Optional[str] = None) -> list[str]:
    """The command line that runs argv in the pod as `kubectl exec` would:
    in all its namespaces, as uid:gid of the pod, with only caps (every set)."""
    bounding = ",".join(["-all", *(f"+{c}" for c in caps)])
    cmd = ["nsenter", f"--target={pod_pid}", "--user", "--mount", "--pid", "--net", "--uts",
           "--ipc", "--cgroup", "--root", "--wd=/tmp"]
    if seccomp:
        # Loaded while still holding CAP_SYS_ADMIN of the pod's namespace (as
        # runc does without no_new_privs); everything after runs filtered.
        cmd += [sys.executable, os.path.abspath(__file__), "seccomp", seccomp, "--"]
    cmd += ["setpriv", f"--bounding-set={bounding}", "--inh-caps=-all"]
    if uid or gid:
        cmd += [f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    if no_new_privs:
        cmd.append("--no-new-privs")
    return cmd + argv


# ----- seccomp: a profile in the Kubernetes/OCI JSON format, through libseccomp

def load_seccomp(profile: dict) -> None:
    """Loads a deny-list profile (defaultAction SCMP_ACT_ALLOW, rules with
    names and an action, no argument conditions) as runc would."""
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    allow, errno_base = 0x7FFF0000, 0x00050000
    if profile.get("defaultAction") != "SCMP_ACT_ALLOW":
        raise ValueError("podsim loads deny-list profiles only (defaultAction SCMP_ACT_ALLOW)")
    ctx = lib.seccomp_init(allow)
    for rule in profile.get("syscalls", []):
        if rule.get("args"):
            raise ValueError("podsim does not load argument conditions")
        action = rule["action"]
        if action != "SCMP_ACT_ERRNO":
            raise ValueError(f"podsim loads SCMP_ACT_ERRNO rules only, not {action}")
        code = errno_base | int(rule.get("errnoRet", 1))
        for name in rule["names"]:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:  # not a syscall of this architecture (as runc skips it)
                continue
            _check(lib.seccomp_rule_add(ctx, code, nr, 0), f"seccomp rule for {name}")
    _check(lib.seccomp_load(ctx), "load the seccomp filter")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="verb", required=True)
    u = sub.add_parser("up")
    u.add_argument("--base", type=int, required=True, help="first host id of the pod's range")
    u.add_argument("--ids", type=int, default=65536, help="ids per pod (kubelet idsPerPod)")
    u.add_argument("--masked", action="store_true", help="procMount: Default (runc's masks)")
    u.add_argument("--sys-rw", action="store_true",
                   help="/sys writable (only privileged containers have that)")
    u.add_argument("--tun", action="store_true", help="/dev/net/tun as a device plugin adds it")
    u.add_argument("--subid", action="append", default=[],
                   help="a line of the image's /etc/subuid and /etc/subgid (user:first:count)")
    s = sub.add_parser("seccomp")
    s.add_argument("profile")
    s.add_argument("argv", nargs=argparse.REMAINDER)
    args = p.parse_args()
    if args.verb == "up":
        up(args)
    else:
        load_seccomp(json.loads(Path(args.profile).read_text()))
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
