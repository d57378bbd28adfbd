"""Running v6lab without root: the same code path inside a user namespace
the user owns.

Everything the core does (namespaces, veths, bridges, mounts, the nodes'
own user namespaces) works for a process that is root in a user namespace
of its own: the kernel checks capabilities against the namespace that owns
each object. So an unprivileged user's lab is built by a process that first
*enters* a new user namespace — node ids 1..65535 mapped to the user's
subordinate ids (``/etc/subuid``, through Debian's ``uidmap``) where the
host gives a range, else only root mapped to the user — and every later
command that works on that lab (``exec``, ``shell``, ``check``) first
*joins* the namespace of the lab's owner process. Only a single-threaded
process can do either, so both happen before any thread is started.

A lab that a user starts this way is that user's from outside as well: they
can enter any of its namespaces, so its grades are self-assessment (see
docs/architecture.md).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Optional

from ._core import Error
from .errors import UsernsUnavailableError
from .i18n import _

CLONE_NEWUSER = 0x10000000
_CAP_SYS_ADMIN = 21


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _uid_map(pid: str = "self") -> list[tuple[int, int, int]]:
    out = []
    for line in Path(f"/proc/{pid}/uid_map").read_text().splitlines():
        inside, outside, count = (int(x) for x in line.split())
        out.append((inside, outside, count))
    return out


def in_initial_userns() -> bool:
    """Whether this process is in the host's own user namespace."""
    return _uid_map() == [(0, 0, 4294967295)]


# Set by enter() and join() for this process and its children: the uid the
# user had before moving into v6lab's user namespace, and that namespace.
_OUTER_ENV = "V6LAB_OUTER_UID"


def _userns_inode() -> int:
    return os.stat("/proc/self/ns/user").st_ino


def _remember_outer_uid(uid: int) -> None:
    os.environ[_OUTER_ENV] = f"{uid}:{_userns_inode()}"


def in_v6lab_userns() -> bool:
    """Whether this process is in a user namespace v6lab entered or joined
    (not the host's, nor a container's that v6lab runs in)."""
    ino = os.environ.get(_OUTER_ENV, "").partition(":")[2]
    # Never the host's: a note there (forged, or left in an environment) is
    # ignored, and so is one of another namespace.
    return ino.isdigit() and int(ino) == _userns_inode() and not in_initial_userns()


def host_uid() -> int:
    """The uid of the user who runs v6lab, as it was before v6lab moved this
    process into a user namespace of its own (records and progress belong to
    that user): the same for `v6lab start`, the lab's supervisor and `v6lab
    exec`. That is the host's uid on a host, and the container's uid in a
    container that is itself a user namespace (a Kubernetes pod with
    hostUsers: false), where the host's id of the pod is not the user's."""
    uid_text = os.environ.get(_OUTER_ENV, "").partition(":")[0]
    if in_v6lab_userns() and uid_text.isdigit():
        return int(uid_text)
    mapping = _uid_map()
    if os.getuid() == 0 and len(mapping) == 1 and mapping[0][0] == 0 and mapping[0][2] == 1:
        # Root of a single-id namespace without the note (made by hand,
        # unshare -r): the user it stands for.
        return mapping[0][1]
    # The host, or a container's namespace v6lab did not make: the user's id here.
    return os.getuid()


def has_cap_sys_admin() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> _CAP_SYS_ADMIN & 1)
    return False


def privileged() -> bool:
    """Root with every capability here: host root, or root in a user
    namespace this process entered or joined."""
    return os.geteuid() == 0 and has_cap_sys_admin()


def _single_threaded() -> bool:
    return threading.active_count() == 1 and len(os.listdir("/proc/self/task")) == 1


def subordinate_range(user: str, uid: int, file: str) -> Optional[tuple[int, int]]:
    """The first range of at least 65535 ids the host gives this user in
    /etc/subuid or /etc/subgid, or None."""
    try:
        lines = Path(file).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in (user, str(uid)):
            try:
                start, count = int(parts[1]), int(parts[2])
            except ValueError:
                continue
            if count >= 65535:
                return start, count
    return None


def _user_name(uid: int) -> str:
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _mapping_tools() -> Optional[tuple[str, str]]:
    a, b = shutil.which("newuidmap"), shutil.which("newgidmap")
    return (a, b) if a and b else None


def enter() -> str:
    """Moves this (single-threaded) process into a new user namespace where
    it is root. Returns how ids are mapped, in words. Raises
    UsernsUnavailableError with the fix when the host refuses."""
    if not _single_threaded():
        raise Error("v6lab must enter its user namespace before any thread starts: "
                    "call v6lab.userns.enter() at the start of the program")
    uid, gid = os.getuid(), os.getgid()
    outer = host_uid()
    user = _user_name(uid)
    subu = subordinate_range(user, uid, "/etc/subuid")
    subg = subordinate_range(user, uid, "/etc/subgid")
    tools = _mapping_tools()
    full = bool(subu and subg and tools)
    helper = None
    if full:
        # newuidmap must run outside the new namespace: a child made before
        # the unshare writes the maps once told to.
        r, w = os.pipe()
        helper = os.fork()
        if helper == 0:  # pragma: no cover - runs in the child
            os.close(w)
            os.read(r, 1)
            ppid = str(os.getppid())
            a = subprocess.run([tools[0], ppid, "0", str(uid), "1", "1", str(subu[0]), "65535"],
                               capture_output=True)
            b = subprocess.run([tools[1], ppid, "0", str(gid), "1", "1", str(subg[0]), "65535"],
                               capture_output=True)
            os._exit(0 if a.returncode == 0 and b.returncode == 0 else 1)
        os.close(r)
    libc = _libc()
    if libc.unshare(CLONE_NEWUSER) != 0:
        err = ctypes.get_errno()
        if helper:
            os.close(w)
            os.waitpid(helper, 0)
        # TRANSLATORS: {error} is the system's reason, in English.
        raise UsernsUnavailableError(_(
            "this host does not let {user} create user namespaces ({error}): allow them "
            "(sysctl user.max_user_namespaces=15000; on Ubuntu also "
            "kernel.apparmor_restrict_unprivileged_userns=0), run 'v6lab doctor', or run as "
            "root").format(user=user, error=os.strerror(err)))
    if helper:
        os.write(w, b"x")
        os.close(w)
        status = os.waitpid(helper, 0)[1]
        if status != 0:
            raise UsernsUnavailableError(_(
                "newuidmap/newgidmap refused to map {user}'s subordinate ids ({ranges}): check "
                "/etc/subuid and /etc/subgid ('v6lab doctor')").format(
                    user=user, ranges=f"{subu[0]}+65535"))
        _remember_outer_uid(outer)
        return f"node ids 0..65535: 0 is {user}, the rest {user}'s subordinate ids"
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    _remember_outer_uid(outer)
    return (f"only root is mapped (to {user}): daemons that switch users will fail; "
            "give the user subordinate ids and install uidmap ('v6lab doctor')")


def join(pid: int) -> None:
    """Moves this (single-threaded) process into the user namespace of
    process pid (a lab's owner) and becomes root there."""
    if not _single_threaded():
        raise Error("v6lab must join the lab's user namespace before any thread starts")
    outer = host_uid()
    fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc = _libc()
        if libc.setns(fd, CLONE_NEWUSER) != 0:
            err = ctypes.get_errno()
            raise Error(f"join the user namespace of the lab's owner (pid {pid}): "
                        f"{os.strerror(err)}")
    finally:
        os.close(fd)
    try:
        os.setgroups([])
    except PermissionError:  # setgroups denied in a single-id mapping
        pass
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    _remember_outer_uid(outer)


def same_userns(pid: int) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/user").st_ino == os.stat("/proc/self/ns/user").st_ino
    except OSError:
        return False


def ensure_for_new_lab() -> None:
    """Makes this process able to build a lab: nothing for root; a new user
    namespace for anyone else."""
    if not privileged():
        enter()


def ensure_for(owner_pid: int) -> None:
    """Makes this process able to work on the lab owned by owner_pid."""
    if same_userns(owner_pid):
        if not privileged():
            raise Error(f"the lab's owner (pid {owner_pid}) is in this user namespace, "
                        "but this process is not root in it")
        return
    if os.geteuid() == 0 and in_initial_userns():
        return  # host root reaches every lab
    if in_v6lab_userns():
        raise Error("this process already works with a lab of another user namespace; "
                    "run a new v6lab command for this lab")
    # From the host, or from a container that is itself a user namespace
    # (a pod with hostUsers: false): the lab's namespace is one level down.
    join(owner_pid)
