"""`v6lab doctor`: what this host lets v6lab do, and the fix for each gap.

A trainee on a class server has no sudo, and an instructor must know before
the course whether labs will run, rootless or not, and which labs need what.
Each check probes the real thing where that is cheap (creating a user
namespace in a child, reading the id ranges) and says in one sentence what
to change where it fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import _core, userns
from .i18n import N_, _

# The prerequisites' names: English in Finding.name and JSON (ready() and
# scripts test them), translated for display by name_text().
NAMES = (N_("mode"), N_("user namespaces"), N_("uidmap"), N_("subordinate ids"),
         N_("per-node limits"), N_("TUN device"), N_("network namespaces"),
         N_("kernel features"), N_("unmasked /proc"))
KERNEL_PREFIX = "kernel: "


@dataclass
class Finding:
    """One prerequisite: its name, whether it holds ("ok", "missing" or
    "limited"), what was found, and the fix when it does not hold. The name
    and status are English (machine fields); the rest is in the trainee's
    language."""

    name: str
    status: str
    found: str
    fix: str = ""
    needed_for: str = ""


def name_text(name: str) -> str:
    """A finding's name in the trainee's language."""
    if name.startswith(KERNEL_PREFIX):
        # TRANSLATORS: {feature} is a kernel module or option: vxlan, sit, netem.
        return _("kernel: {feature}").format(feature=name[len(KERNEL_PREFIX):])
    return _(name) if name in NAMES else name


def _read(path: str) -> Optional[str]:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _probe_userns() -> tuple[bool, str]:
    """Whether this user can create a user namespace: tried in a child."""
    import ctypes
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(userns.CLONE_NEWUSER) == 0 else 1)
    status = os.waitpid(pid, 0)[1]
    return status == 0, (_("created one in a child process") if status == 0
                         else _("unshare(CLONE_NEWUSER) refused"))


def _userns_findings(root: bool) -> list[Finding]:
    out = []
    ok, how = _probe_userns()
    maxns = _read("/proc/sys/user/max_user_namespaces")
    apparmor = _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    fix = "sysctl -w user.max_user_namespaces=15000"
    if apparmor == "1":
        fix += " and kernel.apparmor_restrict_unprivileged_userns=0"
    if not ok and in_container() and maxns not in (None, "0"):
        # The kernel allows them: the container's seccomp or AppArmor profile
        # is what refuses (RuntimeDefault's refuses unshare without CAP_SYS_ADMIN).
        fix = _("the container's seccomp or AppArmor profile forbids them (the runtime's "
                "default does): run it with v6lab's profiles (docs/scaling.md)")
    out.append(Finding("user namespaces", "ok" if ok else "missing",
                       f"{how} (user.max_user_namespaces={maxns})", "" if ok else fix,
                       _("every lab (nodes run in user namespaces, also under root)")))
    if root:
        return out
    tools = bool(shutil.which("newuidmap") and shutil.which("newgidmap"))
    uid = os.getuid()
    user = pwd.getpwuid(uid).pw_name if uid >= 0 else str(uid)
    subu = userns.subordinate_range(user, uid, "/etc/subuid")
    subg = userns.subordinate_range(user, uid, "/etc/subgid")
    out.append(Finding("uidmap", "ok" if tools else "limited",
                       _("newuidmap and newgidmap found") if tools
                       else _("newuidmap/newgidmap not found"),
                       "" if tools else "apt-get install uidmap",
                       _("daemons that switch users (dnsmasq, Kea, unbound, FRR) without root")))
    ranges = f"{subu[0]}+{subu[1]}" if subu else _("none")
    has = bool(subu and subg)
    # TRANSLATORS: {ranges} is "200000+65536" (first id + how many) or "none".
    out.append(Finding("subordinate ids", "ok" if has else "limited",
                       _("/etc/subuid and /etc/subgid give {user}: {ranges}").format(
                           user=user, ranges=ranges),
                       "" if has else _("{command} (as root)").format(
                           command=f"usermod --add-subuids 200000-265535 "
                                   f"--add-subgids 200000-265535 {user}"),
                       _("daemons that switch users without root")))
    return out


def _cgroup_finding(root: bool) -> Finding:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        kind = "cgroup v2"
        ok = root and os.access("/sys/fs/cgroup", os.W_OK)
    else:
        kind = "cgroup v1"
        ok = root and os.access("/sys/fs/cgroup/pids", os.W_OK) and \
            os.access("/sys/fs/cgroup/memory", os.W_OK)
    found = (_("{kind}, v6lab may create cgroups") if ok else
             _("{kind}, no cgroup v6lab may create children in: processes are capped per node "
               "by RLIMIT_NPROC, memory only by tmpfs sizes")).format(kind=kind)
    return Finding("per-node limits", "ok" if ok else "limited", found,
                   "" if ok else _("run as root, or delegate a cgroup v2 subtree with pids and "
                                   "memory to the user (systemd: Delegate=yes)"),
                   _("a fork bomb or memory hog in one node leaving the rest working"))


def in_container() -> bool:
    """Whether v6lab runs in a container that is itself a user namespace
    (a Kubernetes pod with hostUsers: false), not on a host: then the host's
    fixes (modprobe, chmod, sysctl) are the cluster's to make."""
    return not userns.in_initial_userns() and not userns.in_v6lab_userns()


def _tun_finding() -> Finding:
    tun = "/dev/net/tun"
    if not os.path.exists(tun):
        fix = "modprobe tun"
        if in_container():
            fix = _("the container must be given {file} (Kubernetes: a device plugin's TUN "
                    "resource, docs/scaling.md)").format(file=tun)
        return Finding("TUN device", "missing", _("{file} does not exist").format(file=tun),
                       fix, _("NAT64 labs (tayga)"))
    ok = os.access(tun, os.R_OK | os.W_OK)
    mode = oct(os.stat(tun).st_mode & 0o777)
    return Finding("TUN device", "ok" if ok else "limited",
                   _("{file} mode {mode}").format(file=tun, mode=mode),
                   "" if ok else _("{command} (Debian's default), or run as root").format(
                       command=f"chmod 0666 {tun}"),
                   _("NAT64 labs (tayga)"))


# What runc (and kubelet's procMount: Default) covers in a container's /proc.
_PROC_MASKS = ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
               "/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
               "/proc/sys", "/proc/sysrq-trigger")


def _proc_finding() -> Optional[Finding]:
    """A container's masked /proc: the kernel then refuses the nodes a /proc
    of their own (a new proc mount must not reveal what is covered), so no
    lab starts. None on a host with nothing covered (nothing to say)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    covered = sorted({f.split()[4] for f in lines if len(f.split()) > 4
                      and f.split()[4] in _PROC_MASKS})
    if not covered and not in_container():
        return None
    if not covered:
        return Finding("unmasked /proc", "ok", _("no part of /proc is covered"))
    # TRANSLATORS: {paths} is a list of files under /proc.
    return Finding("unmasked /proc", "missing",
                   _("{paths} are covered: the nodes cannot mount a /proc of their own").format(
                       paths=", ".join(covered)),
                   _("run the container with an unmasked /proc (Kubernetes: "
                     "securityContext.procMount: Unmasked with hostUsers: false)"),
                   _("every lab"))


def _kernel_findings() -> list[Finding]:
    out = []
    for feature, labs in (("vxlan", N_("overlay labs")), ("sit", N_("6in4 tunnel labs")),
                          ("ip6tnl", N_("IPv6-in-IPv6 tunnel labs")), ("gre", N_("GRE labs")),
                          ("dummy", N_("labs with dummy interfaces")),
                          ("netem", N_("impairment labs"))):
        why = _core.kernel_feature_missing(feature)
        # The core's explanation (why) is data: left in English.
        out.append(Finding(KERNEL_PREFIX + feature, "ok" if not why else "missing",
                           _("present") if not why else why.split(": ")[0],
                           "" if not why else _("use a kernel built with that option"), _(labs)))
    return out


def findings() -> list[Finding]:
    """Every prerequisite, probed now."""
    root = os.geteuid() == 0 and userns.in_initial_userns()
    mode = Finding("mode", "ok", _("root: labs run in user namespaces v6lab maps") if root else
                   _("rootless (uid {uid}): labs run in a user namespace you own, and their "
                     "grades are self-assessment").format(uid=os.getuid()))
    out = [mode, *_userns_findings(root), _cgroup_finding(root), _tun_finding()]
    proc = _proc_finding()
    if proc:
        out.append(proc)
    ns = _core.namespace_support() if root else ""
    if root:
        out.append(Finding("network namespaces", "ok" if not ns else "missing",
                           ns or _("created one"),
                           "" if not ns else _("use a kernel with CONFIG_NET_NS")))
    if root:
        out += _kernel_findings()
    else:
        out.append(Finding("kernel features", "ok", _("probed when a lab that needs one starts "
                                                      "(sit, ip6tnl, gre, dummy, netem, vxlan)")))
    return out


def ready(items: list[Finding]) -> bool:
    """Whether labs can run at all (limited features are not blockers)."""
    return all(f.status != "missing" for f in items if not f.name.startswith(KERNEL_PREFIX))
