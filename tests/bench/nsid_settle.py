#!/usr/bin/python3
"""Settle measurement shared by the benchmark baselines (ip_batch.sh and
mininet_chain.py use this file; floor.cpp implements the same method in C++).

"Settled" means: the kernel has finished destroying every network namespace
the run made. Why the obvious probes do not measure that:

* `ip netns list` / /run/netns show bind mounts. `ip netns del` removes the
  mount synchronously, long before the kernel has destroyed anything; a
  namespace held by an fd or a process never appears there at all.
* /proc/net/* is per namespace: it shows the reader's own namespace only.
* /sys/kernel/slab/net_namespace/objects (or /proc/slabinfo) is global,
  counts other users' namespaces too, and with SLUB it misses objects on
  per-CPU slabs: here it stayed at 42 while a new namespace was alive.
* Once its last reference is gone a namespace cannot be named from user
  space any more (no fd, no mount, no pid), so it cannot be polled directly.

What works here (Linux 6.x): the root namespace's NSID table. Before teardown
(outside the timed part) every namespace of the run gets an nsid in the root
namespace (RTM_NEWNSID with NETNSA_FD or NETNSA_PID; the kernel picks the
number and echoes it back). That holds no reference. The kernel's cleanup
work (cleanup_net, one work item on the ordered "netns" workqueue) removes
a dying namespace's nsids as the first thing it does for that batch of
namespaces (unhash_nsid) and multicasts RTM_DELNSID to RTNLGRP_NSID.
So we listen on RTNLGRP_NSID, and:

1. wait until every nsid of the run has been deleted: every namespace of the
   run is now in a cleanup batch that has started. This also catches
   references that are dropped late, e.g. a netlink socket's reference,
   which the kernel drops one RCU grace period after close();
2. then create one throw-away "sentinel" namespace, give it an nsid, drop it
   and wait for its RTM_DELNSID. cleanup_net is a single work item that never
   runs concurrently with itself, and the sentinel was queued after every
   batch holding the run's namespaces had taken them, so the sentinel's batch
   can only start once those batches have returned: device unregistration,
   every pernet exit method, rcu_barrier() and the final frees are done.

Cost of the method: one empty namespace created and queued (about 1 ms);
the sentinel's own cleanup runs after "settled" is declared (an empty
namespace, a few ms of kernel work). `nsid_settle.py flush` measures the
sentinel round trip alone on an idle kernel.

Limits: nsids are global numbers the kernel reuses (lowest free first). If
another program assigns root nsids at the same moment, a RTM_DELNSID for its
old number can in theory arrive just after our echo of the same number (a
window of microseconds); the deadline below stops a wait that never ends.

CLI (for shell scripts):
  nsid_settle.py watch PREFIX  assign nsids to /run/netns/PREFIX*, print
                               "ready COUNT", wait for a line "go" on stdin
                               (teardown done), then print "settled SECONDS"
                               (time since "go" was read) and exit.
  nsid_settle.py flush         print the sentinel round trip on an idle kernel.
"""

import ctypes
import errno
import os
import select
import socket
import struct
import sys
import threading
import time

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
SO_RCVBUFFORCE = 33
RTNLGRP_NSID = 28
RTM_NEWNSID, RTM_DELNSID, RTM_GETNSID = 88, 89, 90
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO, NLM_F_DUMP = 0x1, 0x4, 0x8, 0x300
NETNSA_NSID, NETNSA_PID, NETNSA_FD = 1, 2, 3
CLONE_NEWNET = 0x40000000

DEFAULT_DEADLINE_S = 120.0


class SettleTimeout(RuntimeError):
    pass


def _attr(kind, fmt, value):
    payload = struct.pack(fmt, value)
    hdr = struct.pack("=HH", 4 + len(payload), kind)
    return hdr + payload + b"\0" * ((4 - len(payload) % 4) % 4)


def _parse_attrs(data):
    out = {}
    off = 0
    while off + 4 <= len(data):
        ln, kind = struct.unpack_from("=HH", data, off)
        if ln < 4:
            break
        out[kind & 0x3FFF] = data[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


class NsidWatch:
    """A root-namespace rtnetlink socket subscribed to RTNLGRP_NSID.

    Create it in the root namespace (the caller's thread must be there)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK,
                                  socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                  NETLINK_ROUTE)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NSID)
        self.seq = int(time.time()) & 0xFFFF
        self.pending = set()   # our nsids not deleted yet
        self.lost = False      # ENOBUFS seen: resynchronise with a dump

    def close(self):
        self.sock.close()

    # -- receiving -------------------------------------------------------
    def _handle(self, msgs_out, data):
        off = 0
        while off + 16 <= len(data):
            ln, kind, flags, seq, pid = struct.unpack_from("=IHHII", data, off)
            if ln < 16:
                break
            body = data[off + 16:off + ln]
            if kind == RTM_DELNSID:
                a = _parse_attrs(body[4:])
                if NETNSA_NSID in a:
                    self.pending.discard(struct.unpack("=i", a[NETNSA_NSID][:4])[0])
            msgs_out.append((kind, flags, seq, body))
            off += (ln + 3) & ~3

    def _recv_some(self, timeout):
        """Reads what is there (waiting up to timeout); returns messages."""
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        msgs = []
        if not r:
            return msgs
        while True:
            try:
                data = self.sock.recv(1 << 16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    self.lost = True
                    continue
                raise
            self._handle(msgs, data)
        return msgs

    # -- requests --------------------------------------------------------
    def assign(self, fd=None, pid=None):
        """Gives the namespace (by fd or by pid) an nsid in the root
        namespace; returns the number the kernel chose."""
        self.seq += 1
        attrs = _attr(NETNSA_NSID, "=i", -1)
        attrs += _attr(NETNSA_FD, "=I", fd) if fd is not None else _attr(NETNSA_PID, "=I", pid)
        body = struct.pack("=B3x", 0) + attrs
        hdr = struct.pack("=IHHII", 16 + len(body), RTM_NEWNSID,
                          NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO, self.seq, 0)
        self.sock.send(hdr + body)
        nsid = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for kind, _flags, seq, body in self._recv_some(deadline - time.monotonic()):
                if seq != self.seq:
                    continue
                if kind == RTM_NEWNSID:
                    a = _parse_attrs(body[4:])
                    nsid = struct.unpack("=i", a[NETNSA_NSID][:4])[0]
                elif kind == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", body, 0)[0]
                    if err:
                        raise OSError(err, "assign nsid: " + os.strerror(err))
                    if nsid is None:
                        raise RuntimeError("assign nsid: no echo from the kernel")
                    self.pending.add(nsid)
                    return nsid
        raise RuntimeError("assign nsid: no answer from the kernel")

    def _resync(self):
        """After lost events: a dump of the root's nsids; ours that are
        absent have been deleted."""
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                          NETLINK_ROUTE)
        try:
            s.bind((0, 0))
            hdr = struct.pack("=IHHII", 20, RTM_GETNSID, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
            s.send(hdr + struct.pack("=B3x", 0))
            present = set()
            done = False
            while not done:
                data = s.recv(1 << 16)
                off = 0
                while off + 16 <= len(data):
                    ln, kind, _f, _s, _p = struct.unpack_from("=IHHII", data, off)
                    if kind in (NLMSG_DONE, NLMSG_ERROR):
                        done = True
                        break
                    a = _parse_attrs(data[off + 20:off + ln])
                    if NETNSA_NSID in a:
                        present.add(struct.unpack("=i", a[NETNSA_NSID][:4])[0])
                    off += (ln + 3) & ~3
            self.pending &= present
        finally:
            s.close()
        self.lost = False

    def wait_deleted(self, ids=None, deadline=None):
        """Waits until the given nsids (default: all assigned ones) are deleted."""
        want = set(self.pending if ids is None else ids)
        deadline = deadline or time.monotonic() + DEFAULT_DEADLINE_S
        while want & self.pending:
            if self.lost:
                self._resync()
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise SettleTimeout("%d namespace(s) not destroyed in time (nsids %s)"
                                    % (len(want & self.pending),
                                       sorted(want & self.pending)[:10]))
            self._recv_some(min(left, 1.0))

    # -- sentinel --------------------------------------------------------
    def sentinel(self, deadline=None):
        """Creates, registers and drops one empty namespace, then waits for
        the kernel to start destroying it (see module docstring)."""
        box = {}

        def make():
            # A short-lived helper thread: unshare() moves only this thread.
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                box["err"] = ctypes.get_errno()
                return
            box["fd"] = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)

        t = threading.Thread(target=make)
        t.start()
        t.join()
        if "err" in box:
            raise OSError(box["err"], "sentinel namespace: " + os.strerror(box["err"]))
        try:
            nsid = self.assign(fd=box["fd"])
        finally:
            os.close(box["fd"])
        self.wait_deleted({nsid}, deadline)

    def settle(self, deadline_s=DEFAULT_DEADLINE_S):
        """wait_deleted() for every assigned nsid, then sentinel()."""
        deadline = time.monotonic() + deadline_s
        self.wait_deleted(None, deadline)
        self.sentinel(deadline)


def _cmd_watch(prefix):
    w = NsidWatch()
    try:
        names = sorted(n for n in os.listdir("/run/netns") if n.startswith(prefix))
        for n in names:
            fd = os.open("/run/netns/" + n, os.O_RDONLY | os.O_CLOEXEC)
            try:
                w.assign(fd=fd)
            finally:
                os.close(fd)   # the watcher must not keep anything alive
        print("ready", len(names), flush=True)
        line = sys.stdin.readline()
        t0 = time.monotonic()
        if line.strip() != "go":
            return 1
        try:
            w.settle()
        except SettleTimeout as e:
            print("timeout", e, flush=True)
            return 1
        print("settled %.6f" % (time.monotonic() - t0), flush=True)
        return 0
    finally:
        w.close()


def _cmd_flush():
    w = NsidWatch()
    try:
        t0 = time.monotonic()
        w.sentinel()
        print("%.6f" % (time.monotonic() - t0))
        return 0
    finally:
        w.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "watch":
        sys.exit(_cmd_watch(sys.argv[2]))
    if len(sys.argv) == 2 and sys.argv[1] == "flush":
        sys.exit(_cmd_flush())
    print(__doc__.split("CLI (for shell scripts):")[1], file=sys.stderr)
    sys.exit(2)
