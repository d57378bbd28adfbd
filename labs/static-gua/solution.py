"""Reference solution of lab 2. Each step can be applied again (v6lab solve
runs from the first step)."""


def h2_address(lab):
    lab["h2"].cmd("ip -6 addr replace 2001:db8:10::20/64 dev eth0", check=True)
    lab["h2"].wait_addresses_ready("eth0")


def fix_duplicate(lab):
    lab["h1"].cmd("ip -6 addr del 2001:db8:10::10/64 dev eth0 2>/dev/null; "
                  "ip -6 addr replace 2001:db8:10::11/64 dev eth0", check=True)
    lab["h1"].wait_addresses_ready("eth0")


def reach_router(lab):
    for h in ("h1", "h2"):
        lab[h].cmd("ping -c1 -W2 2001:db8:10::1", check=True)


SOLUTION = {
    "h2-address": h2_address,
    "fix-duplicate": fix_duplicate,
    "reach-router": reach_router,
}
