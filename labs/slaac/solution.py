"""Reference solution of lab 3. Each step can be applied again (v6lab solve
runs from the first step)."""

from v6lab.course import render

from .lab import Lab

# Exactly what the trainee README shows.
RADVD_TEMPLATE = """interface eth0 {
    AdvSendAdvert on;
    prefix ${lan1_prefix} {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
"""


def radvd_conf(variables: dict) -> str:
    return render(RADVD_TEMPLATE, variables, "labs/slaac/solution.py")


# With the lab's default variables (what scripts and tests compare against).
RADVD_CONF = radvd_conf(Lab.variables)


def write_radvd_conf(lab, text: str) -> None:
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=text, check=True)


def forwarding(lab):
    lab["r1"].cmd("sysctl -w net.ipv6.conf.all.forwarding=1", check=True)


def radvd(lab):
    write_radvd_conf(lab, radvd_conf(lab.vars or Lab.variables))
    # Started once; a second `v6lab solve` finds it running.
    lab["r1"].cmd("radvd -c && { kill -0 $(cat /run/radvd.pid 2>/dev/null) 2>/dev/null || radvd; }",
                  check=True)


def slaac(lab):
    from v6lab import wait_until
    for h in ("h1", "h2"):
        wait_until(lambda: [a for a in lab[h].addresses("eth0", 6)
                            if a.scope == "global" and not a.tentative], 10,
                   what=f"a SLAAC address on {h}")


def reach_srv(lab):
    srv = (lab.vars or Lab.variables)["srv"]
    lab["h1"].cmd(f"ping -c1 -W2 {srv}", check=True)


SOLUTION = {
    "forwarding": forwarding,
    "radvd": radvd,
    "slaac": slaac,
    "reach-srv": reach_srv,
}
