"""Reference solution of lab 2. Each step can be applied again (v6lab solve
runs from the first step)."""

from .lab import Lab


def v(lab) -> dict:
    return lab.vars or Lab.variables


def h2_address(lab):
    lab["h2"].cmd(f"ip -6 addr replace {v(lab)['h2']}/64 dev eth0", check=True)
    lab["h2"].wait_addresses_ready("eth0")


def fix_duplicate(lab):
    lab["h1"].cmd(f"ip -6 addr del {v(lab)['duplicate']}/64 dev eth0 2>/dev/null; "
                  f"ip -6 addr replace {v(lab)['h1']}/64 dev eth0", check=True)
    lab["h1"].wait_addresses_ready("eth0")


def reach_router(lab):
    for h in ("h1", "h2"):
        lab[h].cmd(f"ping -c1 -W2 {v(lab)['r1']}", check=True)


SOLUTION = {
    "h2-address": h2_address,
    "fix-duplicate": fix_duplicate,
    "reach-router": reach_router,
}
