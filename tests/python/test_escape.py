"""The escape suite: a trainee who is root inside a node tries to get out,
as someone with some Linux knowledge would. Every attempt is a command run
in node h1 of lab A while lab B runs beside it, and asserts two things: that
the attempt was blocked (by the kernel: the node is an unprivileged
container in a user namespace of its own, in its own root filesystem) and
that the host and the other lab are unchanged.

docs/architecture.md ("Trust model") names these tests for each statement
it makes.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from v6lab import Lab, Topo
from v6lab import paths, userns

ROOT = Path(__file__).resolve().parents[2]


class Pair(Topo):
    """r1 and two hosts on a LAN: enough to reach a neighbour."""

    def build(self) -> None:
        lan = self.add_lan("lan1")
        for n in (self.add_router("r1"), self.add_host("h1"), self.add_host("h2")):
            self.add_link(n, lan)


class Other(Topo):
    def build(self) -> None:
        self.add_host("x1")


class World:
    """Lab A (the trainee's), lab B (another trainee's) and markers on the
    host that no node may see or change."""

    def __init__(self, a: Lab, b: Lab) -> None:
        self.a, self.b = a, b
        self.tag = uuid.uuid4().hex[:12]
        self.host_tmp = Path("/tmp") / f"v6lab-escape-{self.tag}"
        self.host_tmp.write_text("host secret\n")
        self.created = [self.host_tmp]
        # Run rootless (test_rootless.py) the user cannot write /root.
        self.host_root = Path("/root") / f".v6lab-escape-{self.tag}"
        if os.access("/root", os.W_OK) and userns.in_initial_userns():
            self.host_root.write_text("host secret\n")
            self.created.append(self.host_root)
        self.sleeper = subprocess.Popen(["sleep", "600"])
        b["x1"].cmd(f"echo other-lab > /root/mine-{self.tag}", check=True)
        a["h2"].cmd(f"echo neighbour > /root/mine-{self.tag}", check=True)

    def close(self) -> None:
        self.sleeper.kill()
        self.sleeper.wait()
        for p in self.created:
            p.unlink(missing_ok=True)

    def h1(self, script: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return self.a["h1"].cmd(["sh", "-c", script], timeout=timeout)


@pytest.fixture(scope="module")
def world(v6lab_available: None) -> Iterator[World]:
    a, b = Lab(Pair()), Lab(Other())
    a.start()
    try:
        b.start()
        w = World(a, b)
        try:
            yield w
        finally:
            w.close()
            b.stop()
    finally:
        a.stop()


def host_sysctl(key: str) -> str:
    return Path("/proc/sys", *key.split(".")).read_text().strip()


def out(r: subprocess.CompletedProcess) -> str:
    return r.stdout + r.stderr


# -- seeing host processes and files ----------------------------------------

def test_proc_shows_only_the_node(world: World) -> None:
    pids = world.h1("ls /proc | grep -E '^[0-9]+$'").stdout.split()
    assert str(world.sleeper.pid) not in pids or len(pids) < 10
    assert len(pids) < 10, pids
    assert world.h1("cat /proc/1/comm").stdout.strip() == "v6lab-init"


def test_unmounting_proc_reveals_no_host_process(world: World) -> None:
    r = world.h1("unshare -m sh -c 'umount -l /proc; ls /proc | grep -cE \"^[0-9]+$\"'")
    assert int(r.stdout.strip() or 0) < 10, out(r)


def test_host_pid_is_not_reachable(world: World) -> None:
    r = world.h1(f"kill -0 {world.sleeper.pid}")
    assert not r.ok or world.sleeper.pid < 10
    assert world.sleeper.poll() is None


def test_kill_all_stays_in_the_node(world: World) -> None:
    world.a["h2"].cmd("sleep 300 >/dev/null 2>&1 &")
    world.h1("kill -9 -1; true")
    assert world.sleeper.poll() is None, "a host process was killed"
    assert world.a["h2"].cmd("true").ok and world.b["x1"].cmd("true").ok


def test_host_tmp_is_not_visible(world: World) -> None:
    assert not world.h1(f"ls -a /tmp | grep -q {world.tag}").ok


def test_unmounting_tmp_reveals_nothing(world: World) -> None:
    r = world.h1(f"unshare -m sh -c 'umount -l /tmp; ls -a /tmp; cat /tmp/v6lab-escape-{world.tag}'")
    assert "host secret" not in out(r) and world.tag not in r.stdout


def test_unmounting_run_reveals_no_records(world: World) -> None:
    r = world.h1("unshare -m sh -c 'umount -l /run; ls -a /run /run/v6lab'")
    assert "labs" not in r.stdout and world.a.id not in out(r)


def test_bind_of_root_shows_the_node_not_the_host(world: World) -> None:
    r = world.h1(f"mkdir -p /run/x && mount --bind / /run/x && ls -a /run/x /run/x/tmp /run/x/root; "
                 f"cat /run/x/tmp/v6lab-escape-{world.tag} /run/x/root/.v6lab-escape-{world.tag}")
    assert "host secret" not in out(r)
    assert "work" not in r.stdout.split()


def test_project_checkout_is_not_visible(world: World) -> None:
    assert not world.h1(f"test -e {ROOT}/README.md || test -e {ROOT}").ok
    assert not world.h1("command -v v6lab-init || test -d /work").ok


def test_v6lab_tools_are_read_only_and_alone(world: World) -> None:
    # /opt/v6lab/bin holds v6lab's node programs (v6lab-ra), each bound
    # read-only from libexec: not the rest of libexec, not writable, and the
    # bind is locked like /usr (unmounting it reveals nothing of the host).
    assert world.h1("command -v v6lab-ra").stdout.strip() == "/opt/v6lab/bin/v6lab-ra"
    assert world.h1("ls -A /opt/v6lab/bin").stdout.split() == ["v6lab-ra"]
    tool = "/opt/v6lab/bin/v6lab-ra"
    assert not world.h1("touch /opt/v6lab/bin/x").ok
    assert not world.h1(f"mount -o remount,bind,rw {tool}").ok
    assert not world.h1(f"umount {tool}").ok
    assert not world.h1(f"echo x >> {tool}").ok
    assert world.h1("v6lab-ra -c -C /dev/null").returncode == 1


def test_host_home_and_root_are_not_visible(world: World) -> None:
    assert world.h1("ls -A /home").stdout.strip() == ""
    assert world.tag not in world.h1("ls -a /root").stdout


def test_host_secrets_in_etc_are_masked(world: World) -> None:
    r = world.h1("cat /etc/shadow /etc/gshadow 2>/dev/null | wc -c")
    assert r.stdout.strip() == "0", out(r)


def test_host_logs_are_not_visible(world: World) -> None:
    r = world.h1("find /var/log /var/tmp /var/spool -type f | head")
    assert r.stdout.strip() == "", r.stdout


def test_writing_usr_is_refused(world: World) -> None:
    name = f"/usr/v6lab-escape-{world.tag}"
    assert not world.h1(f"touch {name}").ok
    assert not world.h1("mount -o remount,rw /usr").ok
    assert not world.h1("mount -o remount,bind,rw /usr").ok
    assert not world.h1(f"touch {name}").ok
    assert not Path(name).exists()


def test_inherited_mounts_are_locked(world: World) -> None:
    # /usr and the devices come from the zygote's template: the kernel
    # refuses to unmount them or to remount the root writable.
    r = world.h1("python3 -c \"import ctypes,os; l=ctypes.CDLL(None,use_errno=True); "
                 "r=l.umount2(b'/usr',2); print(r, os.strerror(ctypes.get_errno()))\"")
    assert r.stdout.startswith("-1"), out(r)
    assert not world.h1("mount -o remount,rw /").ok
    assert not world.h1("touch /v6lab-escape").ok


def test_editing_etc_changes_only_the_node(world: World) -> None:
    before = Path("/etc/hosts").read_bytes()
    assert world.h1(f"echo '192.0.2.1 escape-{world.tag}' >> /etc/hosts").ok
    assert Path("/etc/hosts").read_bytes() == before
    assert world.tag not in world.a["h2"].cmd("cat /etc/hosts").stdout


def test_init_memory_is_out_of_reach(world: World) -> None:
    # PID 1 of a node shares the zygote's memory: neither ptrace nor
    # /proc/1/mem may reach it (the zygote is non-dumpable), also where the
    # host allows dumps of setuid programs (fs.suid_dumpable=1).
    probe = ("import ctypes; l = ctypes.CDLL(None, use_errno=True)\n"
             "r = []\n"
             "for f in ('/proc/1/mem', '/proc/1/maps', '/proc/1/environ'):\n"
             "    try: open(f, 'rb').read(1); r.append('open ' + f)\n"
             "    except OSError: pass\n"
             "if l.ptrace(16, 1, 0, 0) == 0: r.append('attached')\n"
             "print(r)")
    dumpable = Path("/proc/sys/fs/suid_dumpable")
    before = dumpable.read_text() if os.access(dumpable, os.W_OK) else None
    try:
        for setting in ("0", "1") if before is not None else ("",):
            if setting:
                dumpable.write_text(setting)
            r = world.h1(f"python3 -c \"{probe}\"")
            assert r.stdout.strip() == "[]", (setting, out(r))
    finally:
        if before is not None:
            dumpable.write_text(before)


def test_a_node_cannot_type_into_the_callers_terminal(world: World, tmp_path: Path) -> None:
    # TIOCSTI pushes characters into a terminal's input: were the caller's
    # terminal the node command's, the caller's shell would run them after
    # `v6lab exec` returns. The command gets a pty of the node's own.
    import pty
    import select
    marker = tmp_path / "typed-by-the-node"
    inject = ("import fcntl, os, termios\n"
              f"line = b'touch {marker}\\n'\n"
              "for fd in [0, 1, 2] + [os.open(p, os.O_RDWR) for p in ('/dev/tty',) "
              "if os.path.exists(p)]:\n"
              "    try:\n"
              "        for c in line: fcntl.ioctl(fd, termios.TIOCSTI, bytes([c]))\n"
              "    except OSError: pass\n")
    script = tmp_path / "inject.py"
    script.write_text(inject)
    argv = world.a["h1"].exec_argv(["python3", "-c", inject])
    cmdline = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the caller's shell, on a terminal
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"],
                   {**world.a["h1"].env(), "PS1": "$ "})
    try:
        os.write(fd, (cmdline + "; sleep 1; echo done-$((40+2))\n").encode())
        seen, deadline = b"", time.time() + 20
        while b"done-42" not in seen and time.time() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        time.sleep(0.5)
        os.write(fd, b"exit\n")
    finally:
        os.waitpid(pid, 0)
    assert b"done-42" in seen, seen[-400:]
    assert not marker.exists(), "the node typed a command into the caller's terminal"


# -- the host's namespaces and another lab's -----------------------------------

def test_nsenter_host_network_namespace_fails(world: World) -> None:
    r = world.h1(f"nsenter --net=/proc/{world.sleeper.pid}/ns/net ip link")
    assert not r.ok
    r = world.h1("nsenter --net=/proc/1/ns/net --user=/proc/1/ns/user ip link; "
                 "unshare -U nsenter --net=/proc/1/ns/net ip link")
    assert "lo:" not in r.stdout or "eth0" in r.stdout  # only the node's own


def test_other_lab_inits_are_not_visible(world: World) -> None:
    for n in world.b:
        assert not world.h1(f"test -e /proc/{n.pid}/root/root/mine-{world.tag}").ok


def test_moving_an_interface_out_fails(world: World) -> None:
    before = set(os.listdir("/sys/class/net"))
    world.h1(f"ip link set eth0 netns {world.sleeper.pid}; "
             "ip link add esc0 type veth peer name esc1 netns 1; "
             f"ip link add esc2 type veth peer name esc3 netns {os.getpid()}")
    assert set(os.listdir("/sys/class/net")) == before
    assert world.a["h1"].links() and any(l.name == "eth0" for l in world.a["h1"].links())


def test_setns_through_an_inherited_fd_fails(world: World) -> None:
    # Nothing of the host is open in the node's processes.
    r = world.h1("ls -l /proc/1/fd /proc/self/fd 2>&1 | grep -E 'net:|mnt:|/work|/run/v6lab'")
    assert r.stdout.strip() == "", r.stdout


# -- global state: sysctls, time, devices, cgroups, kernel log ----------------

@pytest.mark.parametrize("key,value", [
    ("kernel.sysrq", "0"), ("vm.swappiness", "7"), ("fs.file-max", "1000"),
    ("kernel.pid_max", "4000"), ("kernel.panic", "5"), ("net.core.wmem_max", "4096"),
])
def test_global_sysctl_is_refused(world: World, key: str, value: str) -> None:
    path = Path("/proc/sys", *key.split("."))
    if not path.exists():
        pytest.skip(f"{key} not on this kernel")
    before = path.read_text()
    world.h1(f"echo {value} > /proc/sys/{key.replace('.', '/')}; sysctl -w {key}={value}")
    assert path.read_text() == before


def test_namespaced_sysctl_stays_in_the_node(world: World) -> None:
    before = host_sysctl("net.ipv6.conf.all.forwarding")
    assert world.h1("sysctl -w net.ipv6.conf.all.forwarding=1").ok
    assert host_sysctl("net.ipv6.conf.all.forwarding") == before


def test_setting_the_clock_fails(world: World) -> None:
    before = time.time()
    r = world.h1("date -s '2001-01-01 00:00:00'")
    assert not r.ok
    assert abs(time.time() - before) < 60


def test_kernel_log_and_sysrq_are_out_of_reach(world: World) -> None:
    assert not world.h1("test -e /dev/kmsg").ok
    assert not world.h1("dmesg").ok
    assert not world.h1("test -w /proc/sysrq-trigger").ok


def test_devices_cannot_be_made_or_opened(world: World) -> None:
    r = world.h1("mknod /tmp/disk b 254 0 && head -c1 /tmp/disk")
    assert not r.ok
    assert world.h1("ls /dev").stdout.split() == sorted(
        ["fd", "full", "net", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
         "stdout", "tty", "urandom", "zero"]) or "vda" not in world.h1("ls /dev").stdout


def test_tun_devices_stay_in_the_node(world: World) -> None:
    # NAT64 labs need /dev/net/tun; a tun device made with it belongs to
    # the node's network namespace, never the host's.
    before = set(os.listdir("/sys/class/net"))
    r = world.h1("ip tuntap add mode tun esc-tun0 && ip link show esc-tun0")
    if not r.ok and "Permission denied" in r.stderr and not userns.in_initial_userns():
        pytest.skip("rootless, and the host's /dev/net/tun is not open to everyone")
    assert r.ok, out(r)
    assert set(os.listdir("/sys/class/net")) == before
    assert not world.h1("mknod /tmp/tun2 c 10 200").ok
    world.h1("ip link del esc-tun0")


def test_host_cgroups_are_out_of_reach(world: World) -> None:
    assert not world.h1("mkdir -p /run/cg && mount -t cgroup2 none /run/cg").ok
    assert not world.h1("mount -t cgroup -o pids none /run/cg").ok
    assert world.h1("ls -A /sys/fs/cgroup").stdout.strip() == ""


def test_kernel_modules_cannot_be_loaded(world: World) -> None:
    r = world.h1("python3 -c \"import ctypes,os; l=ctypes.CDLL(None,use_errno=True); "
                 "r=l.syscall(313,0,b'',0); print(r, ctypes.get_errno())\"")  # finit_module
    assert r.stdout.startswith("-1"), out(r)


def test_mounting_the_host_disk_fails(world: World) -> None:
    assert not world.h1("mkdir -p /run/d && mount /dev/vda /run/d").ok
    assert not world.h1("mount -t ext4 /dev/vda /run/d").ok


def test_swap_and_reboot_are_refused(world: World) -> None:
    assert not world.h1("python3 -c \"import ctypes; l=ctypes.CDLL(None,use_errno=True); "
                        "import sys; sys.exit(0 if l.swapoff(b'/x')==0 else 1)\"").ok
    # reboot(2) in a PID namespace only ends the node's init: not called.
    assert world.h1("id -u").stdout.strip() == "0"
    assert world.h1("cat /proc/self/uid_map").stdout.split()[:2] == ["0", str(world.a.id_base)]


# -- other nodes' files, records, progress -------------------------------------

def test_neighbour_files_are_not_visible(world: World) -> None:
    r = world.h1(f"find / -xdev -name 'mine-{world.tag}' 2>/dev/null; "
                 f"cat /proc/*/root/root/mine-{world.tag} 2>/dev/null")
    assert "neighbour" not in r.stdout and "other-lab" not in r.stdout


def test_records_and_progress_are_not_visible(world: World) -> None:
    r = world.h1("ls -a /run; find / -xdev -name 'lab.json' -o -name 'progress.json' 2>/dev/null")
    assert "lab.json" not in r.stdout and "progress.json" not in r.stdout
    assert not world.h1(f"test -e {paths.labs_dir()}/{world.a.id}").ok


def test_a_lab_started_inside_a_node_is_invisible_to_the_host(world: World) -> None:
    before = sorted(os.listdir(paths.labs_dir()))
    world.h1("mkdir -p /run/v6lab/labs/fake && echo '{}' > /run/v6lab/labs/fake/lab.json")
    assert sorted(os.listdir(paths.labs_dir())) == before
    assert not world.h1("python3 -c 'import v6lab'").ok


# -- resources -------------------------------------------------------------------

def node_processes(init_pid: int) -> list[int]:
    """Host PIDs of the processes in a node's PID namespace but its init."""
    pidns = os.readlink(f"/proc/{init_pid}/ns/pid")
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != init_pid:
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") == pidns:
                    found.append(int(pid))
            except OSError:
                pass
    return found


def test_fork_bomb_stops_at_the_node_limit(world: World) -> None:
    h1 = world.a["h1"]
    try:
        world.h1("i=0; while [ $i -lt 3000 ]; do sleep 60 & i=$((i+1)); done", timeout=120)
        count = len(node_processes(h1.pid))
        assert 500 < count <= 1100, count
        # The host, the neighbour and the other lab still work.
        assert subprocess.run(["true"]).returncode == 0
        assert world.a["h2"].cmd("true").ok and world.b["x1"].cmd("true").ok
    finally:
        # At its limit the node cannot fork even a shell: end it from outside.
        for pid in node_processes(h1.pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while node_processes(h1.pid) and time.time() < deadline:
            time.sleep(0.1)
    assert world.h1("true").ok


def test_memory_hog_stops_at_the_node_limit(world: World) -> None:
    if not world.a.limits.startswith("cgroup"):
        pytest.skip(f"no per-node memory limit on this host: {world.a.limits}")
    r = world.h1("python3 -c \"b = bytearray(700 * 1024 * 1024); print('allocated')\"", timeout=60)
    assert "allocated" not in r.stdout and r.returncode == 137, out(r)
    assert world.a["h2"].cmd("true").ok and world.b["x1"].cmd("true").ok


def test_per_user_kernel_counts_stay_the_labs(world: World) -> None:
    # The kernel charges per-user counts (inotify instances, ...) to the
    # creator of a user namespace: a node using up its own must leave the
    # host's root and the other lab theirs.
    if not userns.in_initial_userns():
        pytest.skip("rootless, a user's labs share that user's counts")
    import ctypes
    import subprocess as sp
    hog = world.a["h1"].popen(["python3", "-c",
                               "import ctypes, time\nl = ctypes.CDLL(None)\nn = 0\n"
                               "while l.inotify_init1(0) >= 0 and n < 100000: n += 1\n"
                               "print(n, flush=True)\ntime.sleep(30)"],
                              log=False, stdout=sp.PIPE, text=True)
    try:
        assert int(hog.stdout.readline() or 0) > 0
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(0)
        assert fd >= 0, "the host's inotify instances were used up by a node"
        os.close(fd)
        r = world.b["x1"].cmd(["python3", "-c", "import ctypes; print(ctypes.CDLL(None).inotify_init1(0))"])
        assert int(r.stdout.strip()) >= 0, "the other lab's inotify instances were used up"
    finally:
        hog.kill()
        hog.wait()


def test_tmp_and_shm_are_bounded(world: World) -> None:
    r = world.h1("dd if=/dev/zero of=/dev/shm/fill bs=1M count=200 2>&1; ls -l /dev/shm/fill; "
                 "rm -f /dev/shm/fill", timeout=60)
    assert "No space left" in r.stdout, r.stdout
    r = world.h1("dd if=/dev/zero of=/tmp/fill bs=1M count=400 2>&1; rm -f /tmp/fill", timeout=60)
    assert "No space left" in r.stdout


def test_host_shm_is_not_shared(world: World) -> None:
    name = f"/dev/shm/v6lab-escape-{world.tag}"
    Path(name).write_text("host")
    try:
        assert not world.h1(f"test -e {name}").ok
        world.h1(f"echo node > /dev/shm/node-{world.tag}")
        assert not Path(f"/dev/shm/node-{world.tag}").exists()
    finally:
        Path(name).unlink()


def test_node_root_is_unprivileged_on_the_host(world: World) -> None:
    h1 = world.a["h1"]
    status = Path(f"/proc/{h1.pid}/status").read_text()
    uid_line = next(l for l in status.splitlines() if l.startswith("Uid:"))
    assert uid_line.split()[1:] == [str(world.a.id_base)] * 4
    assert os.readlink(f"/proc/{h1.pid}/ns/user") != os.readlink("/proc/self/ns/user")
    # Processes the trainee starts are the same unprivileged id.
    p = h1.popen(["sleep", "30"], name="probe-uid")
    try:
        time.sleep(0.2)
        kids = [c for c in Path(f"/proc/{h1.pid}/task/{h1.pid}/children").read_text().split()]
        uids = set()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{h1.pid}/ns/pid"):
                    uids.add(os.stat(f"/proc/{pid}").st_uid)
            except OSError:
                pass
        assert uids == {world.a.id_base}, (uids, kids)
    finally:
        p.kill()
        p.wait()


def test_labs_do_not_share_host_ids(world: World) -> None:
    # Each root lab has its own range: no shared uid, so no shared keyrings
    # or per-uid quotas between labs (rootless: the user's own labs share
    # the user's range).
    if not userns.in_initial_userns():
        pytest.skip("rootless labs use their user's own id range")
    a, b = world.a.id_base, world.b.id_base
    assert a != b and abs(a - b) >= 65536, (a, b)
    assert Path(f"/proc/{world.b['x1'].pid}/status").read_text().count(f"\t{b}\t") >= 1


def test_daemons_that_switch_users_work(world: World) -> None:
    # dnsmasq drops to its own user: the node's id range must map it.
    r = world.h1("dnsmasq --test && dnsmasq -k -u dnsmasq --port=5353 --no-resolv "
                 "--pid-file=/run/d.pid & sleep 0.5; ps -o user= -C dnsmasq; kill %1 2>/dev/null; true")
    assert "dnsmasq" in r.stdout, out(r)
