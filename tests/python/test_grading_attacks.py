"""Grading attacks: a trainee who is root in their nodes tries to earn a
step without doing it, on the real labs (slaac, link-local, static-gua).
Each attack starts a fresh lab, applies the reference solution up to the
step it targets, attacks, grades, and asserts the step fails (a failure,
not a grader error). The last test checks the honest solution still
scores 100 %. Packets are forged from inside the nodes with python3 and
AF_PACKET, as a trainee would."""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Callable

import pytest

from v6lab import Lab
from v6lab.course import load_labs
from v6lab.grading import wire as w

LABS = load_labs()
SRV = "2001:db8:20::80"

FORGE = """import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame, n, pause = bytes.fromhex(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
i = 0
while n < 0 or i < n:
    s.send(frame); i += 1; time.sleep(pause)
"""

PAUSE_C = "#include <unistd.h>\n__attribute__((constructor)) static void f(void) { for (;;) pause(); }\n"


def identity(lab: Lab, node: str, iface: str = "eth0") -> tuple[str, str]:
    mac = lab[node].link(iface).mac
    ll = next(a.address for a in lab[node].addresses(iface, 6) if a.scope == "link")
    return mac, ll


def good_ra(lab: Lab, prefix: str = "2001:db8:10::/64") -> bytes:
    """The RA radvd would send for r1, byte for byte as a forger builds it."""
    mac, ll = identity(lab, "r1")
    return w.router_advert(mac, ll, prefixes=[w.PrefixInfo(prefix, True, True, 86400, 14400)],
                           router_lifetime=1800, sllao=True)


def forge(lab: Lab, node: str, frame: bytes, *, count: int = 1, pause: float = 0.0,
          iface: str = "eth0") -> None:
    args = ["python3", "-c", FORGE, iface, frame.hex(), str(count), str(pause)]
    if count < 0:
        lab[node].popen(args, name="forger")
    else:
        lab[node].cmd(args, check=True)


def radvd(lab: Lab, conf: str) -> None:
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=conf, check=True)
    lab["r1"].cmd("radvd", check=True)


def conf() -> str:
    """The radvd.conf of the slaac lab's reference solution."""
    from importlib import import_module
    return import_module(type(LABS["slaac"]).__module__.rsplit(".", 1)[0] + ".solution").RADVD_CONF


@dataclass
class Attack:
    name: str
    lab: str
    step: str
    apply: Callable[[Lab], None]


# ------------------------------------------------------------ radvd step

def hand_ra_wrong_lan(lab):
    radvd(lab, conf().replace("interface eth0", "interface eth1"))
    forge(lab, "r1", good_ra(lab))


def hand_ra_replayed_then_silence(lab):
    forge(lab, "r1", good_ra(lab), count=3, pause=0.2)


def frozen_radvd_plus_forged_ra(lab):
    radvd(lab, conf())
    lab["r1"].cmd("kill -STOP $(pidof radvd)", check=True)
    forge(lab, "r1", good_ra(lab))


def advsendadvert_off_plus_forged_ra(lab):
    radvd(lab, conf().replace("AdvSendAdvert on", "AdvSendAdvert off"))
    forge(lab, "r1", good_ra(lab))


def ld_preload_pause(lab):
    with tempfile.TemporaryDirectory() as tmp:
        src, lib = os.path.join(tmp, "pause.c"), os.path.join(tmp, "pause.so")
        with open(src, "w") as f:
            f.write(PAUSE_C)
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", lib, src], check=True)
        with open(lib, "rb") as f:
            so = base64.b64encode(f.read()).decode()
    lab["r1"].cmd(["sh", "-c", "base64 -d > /tmp/pause.so"], input=so, check=True)
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=conf(), check=True)
    lab["r1"].popen("LD_PRELOAD=/tmp/pause.so exec radvd -n", name="radvd")
    forge(lab, "r1", good_ra(lab))


def ra_from_h1_itself(lab):
    radvd(lab, conf().replace("interface eth0", "interface eth1"))
    forge(lab, "h1", good_ra(lab), count=-1, pause=0.2)


def ra_from_h2_as_r1(lab):
    radvd(lab, conf().replace("interface eth0", "interface eth1"))
    forge(lab, "h2", good_ra(lab), count=-1, pause=0.2)


def ra_loop_from_r1_wrong_lan_radvd(lab):
    radvd(lab, conf().replace("interface eth0", "interface eth1"))
    forge(lab, "r1", good_ra(lab), count=-1, pause=0.2)


def radvd_wrong_prefix_plus_forged(lab):
    radvd(lab, conf().replace("2001:db8:10::/64", "2001:db8:99::/64"))
    forge(lab, "r1", good_ra(lab))


def sleep_renamed_radvd(lab):
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=conf(), check=True)
    lab["r1"].popen(["sh", "-c", "exec -a radvd sleep 600"], name="radvd")
    forge(lab, "r1", good_ra(lab), count=-1, pause=0.3)


def config_without_daemon(lab):
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=conf(), check=True)
    forge(lab, "r1", good_ra(lab))


# ------------------------------------------------------------ slaac step

def hand_state(lab, *, eui64: bool, lifetimes: bool = True, sysctl: str = "accept_ra=0"):
    _, r1_ll = identity(lab, "r1")
    for h, iid in (("h1", "::aaaa"), ("h2", "::bbbb")):
        key, _, val = sysctl.partition("=")
        lab[h].cmd(f"sysctl -w net.ipv6.conf.eth0.{key}={val}", check=True)
        if eui64:
            from v6lab.grading.library import eui64_address
            addr = str(eui64_address("2001:db8:10::/64", lab[h].link("eth0").mac))
        else:
            addr = "2001:db8:10" + iid
        lft = " valid_lft 86400 preferred_lft 14400" if lifetimes else ""
        lab[h].cmd(f"ip -6 addr replace {addr}/64 dev eth0{lft}; "
                   f"ip -6 route replace default via {r1_ll} dev eth0 proto ra", check=True)


def fake_proc_sys(lab):
    """accept_ra=0, then a bind mount over /proc/sys/net showing 1 inside
    h1 and h2 (the grader reads the node's netns through its own thread
    and the host's /proc)."""
    hand_state(lab, eui64=True)
    for h in ("h1", "h2"):
        lab[h].cmd("mkdir -p /tmp/fake/ipv6/conf/eth0 && echo 1 > /tmp/fake/ipv6/conf/eth0/accept_ra "
                   "&& mount --bind /tmp/fake /proc/sys/net")


def defrtr_off_hand_route(lab):
    _, r1_ll = identity(lab, "r1")
    for h in ("h1", "h2"):
        lab[h].cmd("sysctl -w net.ipv6.conf.eth0.accept_ra_defrtr=0; ip -6 route del default; "
                   f"ip -6 route add default via {r1_ll} dev eth0 proto ra", check=True)


# -------------------------------------------------------- reach-srv step

def r1_drops_forwarding(lab):
    lab["r1"].cmd("nft add table inet block && nft add chain inet block fw "
                  "'{ type filter hook forward priority 0; policy drop; }'", check=True)


def local_128_on_h1(lab):
    r1_drops_forwarding(lab)
    lab["h1"].cmd(f"ip -6 addr add {SRV}/128 dev lo", check=True)
    lab["srv"].cmd("ip -6 addr add 2001:db8:10::dead/128 dev lo", check=True)


def dnat_to_loopback(lab):
    r1_drops_forwarding(lab)
    lab["h1"].cmd("nft add table ip6 nat && nft add chain ip6 nat out "
                  "'{ type nat hook output priority -100; }' && "
                  f"nft add rule ip6 nat out ip6 daddr {SRV} dnat to ::1", check=True)


def r1_answers_for_srv(lab):
    """r1 DNATs echo to srv onto itself: h1 gets replies 'from srv'."""
    lab["r1"].cmd("nft add table ip6 nat && nft add chain ip6 nat pre "
                  "'{ type nat hook prerouting priority -100; }' && "
                  f"nft add rule ip6 nat pre ip6 daddr {SRV} icmpv6 type echo-request "
                  "dnat to 2001:db8:10::1", check=True)
    lab["srv"].cmd("nft add table ip6 f && nft add chain ip6 f in "
                   "'{ type filter hook input priority 0; }' && nft add rule ip6 f in icmpv6 type echo-request drop", check=True)


def r1_holds_srv_address(lab):
    lab["srv"].cmd("nft add table ip6 f && nft add chain ip6 f in "
                   "'{ type filter hook input priority 0; }' && nft add rule ip6 f in icmpv6 type echo-request drop", check=True)
    lab["r1"].cmd(f"ip -6 addr add {SRV}/128 dev lo", check=True)


def srv_answers_itself_for_h2(lab):
    """The reverse direction: srv holds h2's address on lo."""
    h2 = next(a.address for a in lab["h2"].addresses("eth0", 6) if a.scope == "global")
    lab["h2"].cmd("nft add table ip6 f && nft add chain ip6 f in "
                  "'{ type filter hook input priority 0; }' && nft add rule ip6 f in icmpv6 type echo-request drop", check=True)
    lab["srv"].cmd(f"ip -6 addr add {h2}/128 dev lo", check=True)


# ------------------------------------------------ link-local, static-gua

def fake_disable_ipv6(lab):
    lab["h1"].cmd("mkdir -p /tmp/fake/ipv6/conf/eth0 && echo 0 > /tmp/fake/ipv6/conf/eth0/disable_ipv6 "
                  "&& mount --bind /tmp/fake /proc/sys/net")


def fake_addr_gen_mode(lab):
    lab["h2"].cmd("mkdir -p /tmp/fake/ipv6/conf/eth0 && echo 2 > /tmp/fake/ipv6/conf/eth0/addr_gen_mode "
                  "&& mount --bind /tmp/fake /proc/sys/net")


def r1_answers_for_hosts(lab):
    """h1 and h2 drop echo requests; r1 holds their addresses on lo, so
    its own probe is answered locally."""
    lab["h1"].cmd("ip -6 addr replace 2001:db8:10::11/64 dev eth0", check=True)
    lab["h1"].wait_addresses_ready("eth0")
    for h in ("h1", "h2"):
        lab[h].cmd("nft add table ip6 f && nft add chain ip6 f in "
                   "'{ type filter hook input priority 0; }' && nft add rule ip6 f in icmpv6 type echo-request drop", check=True)
    lab["r1"].cmd("ip -6 addr add 2001:db8:10::11/128 dev lo && "
                  "ip -6 addr add 2001:db8:10::20/128 dev lo", check=True)


ATTACKS = [
    Attack("hand-ra-wrong-lan-radvd", "slaac", "radvd", hand_ra_wrong_lan),
    Attack("ra-replayed-then-silence", "slaac", "radvd", hand_ra_replayed_then_silence),
    Attack("frozen-radvd-plus-forged-ra", "slaac", "radvd", frozen_radvd_plus_forged_ra),
    Attack("advsendadvert-off-plus-forged-ra", "slaac", "radvd", advsendadvert_off_plus_forged_ra),
    Attack("ld-preload-pause", "slaac", "radvd", ld_preload_pause),
    Attack("ra-from-h1-itself", "slaac", "radvd", ra_from_h1_itself),
    Attack("ra-from-h2-as-r1", "slaac", "radvd", ra_from_h2_as_r1),
    Attack("ra-loop-from-r1-wrong-lan-radvd", "slaac", "radvd", ra_loop_from_r1_wrong_lan_radvd),
    Attack("radvd-wrong-prefix-plus-forged", "slaac", "radvd", radvd_wrong_prefix_plus_forged),
    Attack("sleep-renamed-radvd", "slaac", "radvd", sleep_renamed_radvd),
    Attack("config-without-daemon", "slaac", "radvd", config_without_daemon),
    Attack("hand-addresses-with-lifetimes", "slaac", "slaac",
           lambda lab: hand_state(lab, eui64=False)),
    Attack("hand-eui64-addresses", "slaac", "slaac", lambda lab: hand_state(lab, eui64=True)),
    Attack("autoconf-off-hand-address", "slaac", "slaac",
           lambda lab: hand_state(lab, eui64=True, sysctl="autoconf=0")),
    Attack("forwarding-on-hosts-hand-state", "slaac", "slaac",
           lambda lab: hand_state(lab, eui64=True, sysctl="forwarding=1")),
    Attack("fake-proc-sys-bind-mount", "slaac", "slaac", fake_proc_sys),
    Attack("defrtr-off-hand-route", "slaac", "slaac", defrtr_off_hand_route),
    Attack("local-128-on-h1", "slaac", "reach-srv", local_128_on_h1),
    Attack("dnat-to-loopback", "slaac", "reach-srv", dnat_to_loopback),
    Attack("r1-dnat-answers-for-srv", "slaac", "reach-srv", r1_answers_for_srv),
    Attack("r1-holds-srv-address", "slaac", "reach-srv", r1_holds_srv_address),
    Attack("srv-answers-for-h2", "slaac", "reach-srv", srv_answers_itself_for_h2),
    Attack("fake-disable-ipv6", "link-local", "ipv6-on", fake_disable_ipv6),
    Attack("fake-addr-gen-mode", "link-local", "stable-privacy", fake_addr_gen_mode),
    Attack("r1-answers-for-hosts", "static-gua", "reach-router", r1_answers_for_hosts),
]


def start(lab_factory, lab_id: str) -> Lab:
    d = LABS[lab_id]
    lab = lab_factory(d.topology(), name=f"atk-{lab_id}")
    d.initial_state(lab)
    return lab


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_fails_its_step(lab_factory, attack):
    d = LABS[attack.lab]
    lab = start(lab_factory, attack.lab)
    for step in d.steps():
        if step.id == attack.step:
            break
        d.solution[step.id](lab)
    attack.apply(lab)
    report = d.grader().grade(lab, upto=attack.step)
    target = report.step(attack.step)
    assert target.status == "fail", report.to_json()
    assert all(s.status == "pass" for s in report.steps if s.id != attack.step), report.to_json()


def test_the_switch_side_is_out_of_reach(lab_factory):
    """Why no attack can send 'from r1's port' while being h2: the port is
    in the switch namespace, which no node can see or enter. A node's PID
    namespace does not contain the switch's init, and its interfaces are
    its own."""
    lab = start(lab_factory, "slaac")
    sw = w.switch_handle(lab)
    out = lab["h2"].cmd("ls /proc; ip -o link", check=True).stdout
    assert str(sw.pid) not in out.split()
    assert "l0p0" not in out and "br0" not in out
    r = lab["h2"].cmd(f"nsenter -t {sw.pid} -n true")
    assert r.returncode != 0


def test_sysctls_are_read_past_a_bind_mount(lab_factory):
    """The node sees its fake; the grader reads the real value."""
    lab = start(lab_factory, "slaac")
    lab["h1"].cmd("sysctl -w net.ipv6.conf.eth0.accept_ra=0", check=True)
    fake_proc_sys(lab)
    inside = lab["h1"].cmd("cat /proc/sys/net/ipv6/conf/eth0/accept_ra").stdout.strip()
    assert lab["h1"].sysctl("net.ipv6.conf.eth0.accept_ra") == "0"
    assert inside in ("1", "0")  # "1" when the mount was allowed; either way the grader sees 0


@pytest.mark.parametrize("lab_id", ["slaac", "static-gua", "link-local"])
def test_honest_solution_still_scores_full_marks(lab_factory, lab_id):
    d = LABS[lab_id]
    lab = start(lab_factory, lab_id)
    d.solve(lab)
    report = d.grader().grade(lab)
    assert report.score == 100, report.to_json()
    assert not report.has_errors
    if lab_id == "slaac":  # the behaviour checks left nothing behind
        for h in ("h1", "h2"):
            assert all(not a.address.startswith("fd") for a in lab[h].addresses("eth0", 6))
            assert len([r for r in lab[h].routes(6) if r.dst == "::/0"]) == 1


def test_an_ra_from_another_port_is_named_by_that_port(lab_factory):
    # The failure says which cable the RA really came in on, as node:iface:
    # a router has one on each LAN, and "r1's cable" would not say which.
    d = LABS["slaac"]
    lab = start(lab_factory, "slaac")
    for step in d.steps():
        if step.id == "radvd":
            break
        d.solution[step.id](lab)
    ra_from_h2_as_r1(lab)
    msg = d.grader().grade(lab, upto="radvd").step("radvd").message
    assert "no Router Advertisement came from r1:eth0" in msg, msg
    assert "came in on h2:eth0's cable instead" in msg, msg
