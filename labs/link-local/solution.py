"""Reference solution of lab 1, step by step (what a trainee would type)."""

from v6lab.grading.library import solicited_node_address


def answer(lab) -> str:
    """Where the trainee writes the answer (a lab variable)."""
    from .lab import Lab
    return (lab.vars or Lab.variables)["answer_file"]


def ipv6_on(lab):
    lab["h1"].cmd("sysctl -w net.ipv6.conf.eth0.disable_ipv6=0", check=True)
    lab["h1"].wait_addresses_ready("eth0")


def stable_privacy(lab):
    lab["h2"].cmd("sysctl -w net.ipv6.conf.eth0.addr_gen_mode=3 && "
                  "ip link set eth0 down && ip link set eth0 up", check=True)
    lab["h2"].wait_addresses_ready("eth0")


def h2_link_local(lab):
    return [a.address for a in lab["h2"].addresses("eth0", 6) if a.scope == "link"][0]


def neighbour(lab):
    lab["h1"].cmd(f"ping -c1 -W2 {h2_link_local(lab)}%eth0", check=True)


def solicited_node(lab):
    group = solicited_node_address(h2_link_local(lab))
    lab["h1"].cmd(f"echo {group} > {answer(lab)}", check=True)


SOLUTION = {
    "ipv6-on": ipv6_on,
    "stable-privacy": stable_privacy,
    "neighbour": neighbour,
    "solicited-node": solicited_node,
}
