"""The outside view of a node (core/src/nodefs.cpp) against a trainee who is
root in the node: every attack is a plain command in the node, and every
one leaves the step failed with a clear message that carries no host
content, and never a hang."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from v6lab import Topo, wait_until
from v6lab._core import NodeFileError
from v6lab.grading import CheckFailed, Grader, Step, checks as c

ANSWER = "/root/answer.txt"
WANT = "ff02::1:ff00:10"


def host_secret_lines() -> list[str]:
    """Lines of host files the attacks aim at; none may reach a message."""
    out = []
    for p in ("/etc/shadow", "/etc/hostname", "/etc/machine-id"):
        try:
            out += [ln.strip() for ln in Path(p).read_text().splitlines() if ln.strip()]
        except OSError:
            pass
    return out


@pytest.fixture(scope="module")
def lab(v6lab_available):
    from v6lab import Lab
    t = Topo("nodefs")
    t.add_lan("lan")
    t.add_host("h1")
    t.add_host("h2")
    t.add_link("h1", "lan", addrs_a=["2001:db8:1::10/64"])
    t.add_link("h2", "lan", addrs_a=["2001:db8:1::20/64"])
    lab = Lab(t)
    lab.start()
    try:
        # The node gets its own hostname file, to tell it from the host's.
        lab["h1"].cmd("echo node-h1-hostname > /etc/hostname", check=True)
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def h1(lab):
    """h1 with a clean /root/answer.txt before and after each attack."""
    n = lab["h1"]
    n.cmd(f"rm -rf {ANSWER} /root/chain", check=True)
    yield n
    n.cmd(f"umount {ANSWER} 2>/dev/null; rm -rf {ANSWER} /root/chain", check=True)


def grade(lab) -> tuple[str, str]:
    step = Step("answer", "answer", [c.answer_matches("h1", ANSWER, WANT, what="the group")])
    s = Grader([step]).grade(lab).step("answer")
    return s.status, s.message


ATTACKS = [
    # (name, command in h1, a part of the message)
    ("host_file_symlink", f"ln -s /etc/shadow {ANSWER}", "a symbolic link is on the path"),
    ("relative_escape", f"ln -s ../../../../../../etc/shadow {ANSWER}", "a symbolic link"),
    ("fifo", f"mkfifo {ANSWER}", "not a regular file (a FIFO)"),
    ("directory", f"mkdir {ANSWER}", "not a regular file (a directory)"),
    ("dev_zero", f"ln -s /dev/zero {ANSWER}", "a symbolic link"),
    # mknod is refused to node root (its user namespace is not the host's),
    # but a bind mount of the node's /dev/null puts a device there all the same.
    ("device_node", f"touch {ANSWER} && mount --bind /dev/null {ANSWER}",
     "not a regular file (a character device)"),
    ("huge_file", f"truncate -s 100M {ANSWER}", "larger than 4096 bytes"),
    ("proc_magic_link", f"ln -s /proc/1/root/etc/shadow {ANSWER}", "a symbolic link"),
    ("symlink_chain", "mkdir /root/chain && cd /root/chain && echo x > l0 && "
                      "for i in $(seq 1 50); do ln -s l$((i-1)) l$i; done && "
                      f"ln -s /root/chain/l50 {ANSWER}", "a symbolic link"),
]


@pytest.mark.parametrize("name,attack,why", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_on_the_answer_file_is_a_clear_failure(lab, h1, name, attack, why):
    h1.cmd(attack, check=True)
    t0 = time.monotonic()
    status, msg = grade(lab)
    assert time.monotonic() - t0 < 3, "the grader must never block on a node's file"
    assert status == "fail", msg
    assert why in msg and ANSWER in msg and "on h1" in msg, msg
    for line in host_secret_lines():
        assert line not in msg


def test_correct_answer_passes_and_a_wrong_one_is_not_replayed(lab, h1):
    h1.cmd(f"echo {WANT} > {ANSWER}", check=True)
    assert grade(lab) == ("pass", "")
    h1.cmd(f"echo ff02::1:ff00:99 > {ANSWER}", check=True)
    status, msg = grade(lab)
    assert status == "fail" and "says ff02::1:ff00:99" in msg
    # A copied secret is the trainee's own file, yet a hash-like word is
    # still not echoed into a report.
    h1.cmd(f"echo 'root:$y$j9T$abc:20228:0' > {ANSWER}", check=True)
    status, msg = grade(lab)
    assert status == "fail" and "$" not in msg and "says something else" in msg


def test_symlinks_followed_stay_inside_the_node(lab, h1):
    """read_file follows links only inside the node's root: an absolute link
    to /etc/hostname is the NODE's file, and '..' cannot climb out."""
    host_name = Path("/etc/hostname").read_text()
    h1.cmd(f"ln -s /etc/hostname {ANSWER}", check=True)
    assert h1.read_file(ANSWER) == b"node-h1-hostname\n" != host_name.encode()
    assert h1.read_file("../../../etc/hostname") == b"node-h1-hostname\n"
    h1.cmd(f"rm {ANSWER} && ln -s ../../../../../../../etc/hostname {ANSWER}", check=True)
    assert h1.read_file(ANSWER) == b"node-h1-hostname\n"


@pytest.mark.parametrize("target,kind,why", [
    ("/proc/1/root/etc/hostname", "refused", "a link into /proc"),
    ("/proc/version", "refused", "the file is on proc"),
    ("/dev/zero", "not_regular", "a character device"),
    ("/root/chain/l50", "refused", "too many symbolic links"),
])
def test_read_file_refusals_keep_kind_and_errno(lab, h1, target, kind, why):
    h1.cmd("mkdir /root/chain && cd /root/chain && echo x > l0 && "
           "for i in $(seq 1 50); do ln -s l$((i-1)) l$i; done", check=True)
    h1.cmd(f"ln -s {target} {ANSWER}", check=True)
    with pytest.raises(NodeFileError) as e:
        h1.read_file(ANSWER)
    assert e.value.kind == kind and e.value.errno != 0
    assert str(e.value).startswith(f"read {ANSWER} on h1: ") and why in str(e.value)


def test_a_fifo_never_blocks_even_with_a_short_deadline(lab, h1):
    """open() of a FIFO would block until a writer comes; read_file looks
    with O_PATH first and never opens one for reading."""
    h1.cmd(f"mkfifo {ANSWER}", check=True)
    t0 = time.monotonic()
    with pytest.raises(NodeFileError) as e:
        h1.read_file(ANSWER, timeout=0.5)
    assert e.value.kind == "not_regular" and time.monotonic() - t0 < 0.5


def test_a_reused_pid_is_never_read(lab):
    n = lab["h1"]
    from v6lab._core import read_node_file
    with pytest.raises(NodeFileError) as e:
        read_node_file("h1", n.pid, n.starttime + 1, "/etc/hostname")
    assert e.value.kind == "process_gone"


def test_processes_and_daemon_running(lab):
    """list_node_processes sees the node's processes with both PIDs and the
    executable's inode; daemon_running keeps its verdicts on top of it."""
    h2 = lab["h2"]
    started = h2.cmd("sleep 60 >/dev/null 2>&1 & echo $!; cp /usr/bin/sleep /tmp/radvd && "
                     "{ /tmp/radvd 60 >/dev/null 2>&1 & echo $!; }", check=True).stdout.split()
    try:
        # The shell forks before the programs exec: wait until both run.
        wait_until(lambda: {"sleep", "radvd"} <= {p.comm for p in h2.processes()}, 5,
                   what="sleep and the fake radvd on h2")
        procs = h2.processes()
        assert any(p.host_pid == h2.pid and p.node_pid == 1 for p in procs)
        sleep = [p for p in procs if p.comm == "sleep"]
        st = Path("/usr/bin/sleep").stat()
        assert sleep and (sleep[0].exe_dev, sleep[0].exe_ino) == (st.st_dev, st.st_ino)
        # Node root is an unprivileged id on the host (its user namespace).
        assert sleep[0].uid == lab.id_base and sleep[0].node_uid == 0 and sleep[0].node_pid > 1
        assert not any(p.host_pid == lab["h1"].pid for p in procs)
        assert c.daemon_running("h2", "sleep").run(lab)[0] == "pass"
        status, msg, _ = c.daemon_running("h2", "radvd").run(lab)
        assert status == "fail" and "is not /usr/sbin/radvd" in msg
        assert c.daemon_running("h1", "sleep").run(lab)[:2] == ("fail", "sleep is not running on h1")
    finally:
        h2.cmd(f"kill {' '.join(started)}; true")
        # kill returns before the node's init has reaped them: the next
        # test must not see them still running.
        wait_until(lambda: not {"sleep", "radvd"} & {p.comm for p in h2.processes()}, 5,
                   what="sleep and the fake radvd on h2 to be gone")


def _in_node(pid: int, node) -> bool:
    """The ground truth, read here without the core: pid is in node's PID namespace."""
    try:
        return os.stat(f"/proc/{pid}/ns/pid") == os.stat(f"/proc/{node.pid}/ns/pid")
    except OSError:
        return False


def test_a_pid_reused_inside_the_node_is_seen(lab):
    """list_node_processes remembers which PID namespace each host process
    is in, by PID and /proc inode (nodefs.cpp, PidNsOf). The attack on that
    memory: a process outside the node is seen, ends, and a process of the
    node takes its PID (ns_last_pid steers the next PID here; a trainee
    could only hope for it). The node's process must be seen, not the
    remembered outsider."""
    h2 = lab["h2"]
    last_pid = Path("/proc/sys/kernel/ns_last_pid")
    started: list[str] = []
    try:
        before = 1  # PIDs that go to others (threads, the shell) before the sleep's: learnt
        for _attempt in range(40):
            outside = subprocess.Popen(["sleep", "60"])
            assert not any(p.host_pid == outside.pid for p in h2.processes())  # remembered
            outside.kill()
            outside.wait()
            last_pid.write_text(str(outside.pid - before))
            node_pid = int(h2.cmd("sleep 60 >/dev/null 2>&1 & echo $!", check=True).stdout)
            started.append(str(node_pid))
            if _in_node(outside.pid, h2):
                break  # the PID went to a process of the node
            got = [p.host_pid for p in h2.processes() if p.node_pid == node_pid]
            if got:
                before = min(max(before + got[0] - outside.pid, 1), 50)
        else:
            pytest.fail("no process of h2 took the steered PID in 40 tries")
        wait_until(lambda: not Path(f"/proc/{outside.pid}/exe").exists() or
                   os.readlink(f"/proc/{outside.pid}/exe").endswith("sleep"), 5,
                   what="the process that took the PID to exec")
        assert any(p.host_pid == outside.pid for p in h2.processes())
    finally:
        if started:
            h2.cmd(f"kill {' '.join(started)} 2>/dev/null; true")


def test_multicast_groups_from_the_kernel(lab):
    groups = c.joined_groups(lab, "h1", "eth0")
    assert "ff02::1" in groups and "ff02::1:ff00:10" in groups
    assert all(g.ifname == "eth0" for g in lab["h1"].multicast_groups("eth0"))


def test_trust_daemon_control_socket_requires_the_real_daemon(lab):
    asked = []

    def ask(_lab) -> str:
        asked.append(1)
        return "the daemon says yes"
    check = c.trust_daemon_control_socket("h2", "sleep", ask, "sleep agrees")
    assert "(trusts sleep)" in check.description
    assert check.run(lab)[:2] == ("fail", "sleep is not running on h2") and not asked
    pid = lab["h2"].cmd("sleep 60 >/dev/null 2>&1 & echo $!", check=True).stdout.strip()
    try:
        assert check.with_options(within=5).run(lab)[:2] == ("pass", "the daemon says yes")
    finally:
        lab["h2"].cmd(f"kill {pid}; true")
        wait_until(lambda: "sleep" not in {p.comm for p in lab["h2"].processes()}, 5,
                   what="sleep on h2 to be gone")


def test_not_found_is_no_answer_yet(lab, h1):
    status, msg = grade(lab)
    assert status == "fail" and msg == f"no answer yet: write the group to {ANSWER} on h1"


def test_check_failed_is_what_answer_matches_raises(lab, h1):
    h1.cmd(f"mkfifo {ANSWER}", check=True)
    check = c.answer_matches("h1", ANSWER, WANT)
    with pytest.raises(CheckFailed):
        check.fn(lab)
