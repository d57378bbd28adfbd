"""Reference solution of lab 3. Each step can be applied again (v6lab solve
runs from the first step)."""

# Exactly what the trainee README shows.
RADVD_CONF = """interface eth0 {
    AdvSendAdvert on;
    prefix 2001:db8:10::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
"""


def write_radvd_conf(lab, text: str) -> None:
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=text, check=True)


def forwarding(lab):
    lab["r1"].cmd("sysctl -w net.ipv6.conf.all.forwarding=1", check=True)


def radvd(lab):
    write_radvd_conf(lab, RADVD_CONF)
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
    lab["h1"].cmd("ping -c1 -W2 2001:db8:20::80", check=True)


SOLUTION = {
    "forwarding": forwarding,
    "radvd": radvd,
    "slaac": slaac,
    "reach-srv": reach_srv,
}
