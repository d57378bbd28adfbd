"""Who may talk to the classroom service, and what they may hand it.

The kernel's peer credentials say which uid connected, but not from where.
A trainee's node is a user namespace whose ids map to a range of host
uids that belong to no one: node root, reaching the socket through a
descriptor the trainee passed in (an O_PATH descriptor of the socket, or
of a directory above it, as a command's stdin), would otherwise appear to
the service as a new trainee for every id it setuid()s to — with labs,
quotas and rows in the instructor's view of its own. So a caller must be a
user of this host (a passwd entry) in the host's own user namespace, and
the descriptors passed for exec, shell and capture must be what a terminal
or a pipeline gives: no O_PATH, no directory, no socket that could be
connected from inside the node."""

from __future__ import annotations

import fcntl
import os
import pwd
import select
import socket
import stat
import struct

# SO_PEERPIDFD (Linux 6.5): a pidfd of the connecting process, so that the
# process whose namespace is read is the one that connected, not a later
# process that was given its pid.
_SO_PEERPIDFD = 77
_HOST_USERNS = os.stat("/proc/self/ns/user").st_ino


def _peer_pidfd(conn: socket.socket) -> int:
    try:
        return struct.unpack("i", conn.getsockopt(socket.SOL_SOCKET, _SO_PEERPIDFD, 4))[0]
    except OSError:
        return -1   # an older kernel: the pid alone


def caller_problem(conn: socket.socket, pid: int, uid: int) -> str:
    """"" if the caller may be served, else why not (one sentence)."""
    if uid != 0:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return (f"uid {uid} is no user of this host (a node's id?): the classroom "
                    "service serves the host's users only")
    pidfd = _peer_pidfd(conn)
    try:
        try:
            inode = os.stat(f"/proc/{pid}/ns/user").st_ino
        except OSError:
            return "the calling process is gone"
        if pidfd >= 0 and select.select([pidfd], [], [], 0)[0]:
            return "the calling process is gone"   # exited: the pid may be another's now
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    if inode != _HOST_USERNS:
        return ("the request comes from a user namespace other than the host's: run v6lab "
                "from your own login shell, not inside a node or an unshare")
    return ""


def fd_problem(fd: int) -> str:
    """"" if fd may become a node command's stdin, stdout or stderr."""
    try:
        st = os.fstat(fd)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError as e:
        return f"a descriptor passed cannot be examined: {e.strerror}"
    if flags & os.O_PATH:
        return "a descriptor passed was opened with O_PATH"
    mode = st.st_mode
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISREG(mode):
        return ""
    if stat.S_ISSOCK(mode):
        s = socket.socket(fileno=os.dup(fd))
        try:
            s.getpeername()
            return ""   # connected: the node reaches only the peer the caller chose
        except OSError:
            return "a socket passed is not connected (a node could connect it anywhere)"
        finally:
            s.close()
    return "a descriptor passed is not a terminal, pipe, file or connected socket"
