"""Reference solution of lab 4: the plan of the lab's variables, written
over the template, then site hanoi deployed on r1. Each step can be
applied again (v6lab solve runs from the first step)."""

from v6lab.course import render

from .lab import PLAN, R1_LANS, Lab

# The template's layout, filled in: the backbone in the first /56
# (loopbacks, then links), one /56 per site, one /64 per network.
PLAN_TEMPLATE = """# Address plan of Song Hong Trading.
allocation: ${allocation}

sites:
  hanoi:
    prefix: ${hanoi}
    networks:
      staff: ${hanoi_staff}
      guest: ${hanoi_guest}
      servers: ${hanoi_servers}
      management: ${hanoi_management}
  danang:
    prefix: ${danang}
    networks:
      staff: ${danang_staff}
      guest: ${danang_guest}
      servers: ${danang_servers}
      management: ${danang_management}

loopbacks:
  r1: ${r1_loopback}/128
  r2: ${r2_loopback}/128

links:
  r1-r2: ${link_r1_r2}
"""


def variables(lab) -> dict:
    return lab.vars or Lab.variables


def plan_text(lab) -> str:
    return render(PLAN_TEMPLATE, variables(lab), "labs/address-plan/solution.py")


def write_plan(lab, text: str) -> None:
    lab["r1"].cmd(["sh", "-c", f"cat > {PLAN}"], input=text, check=True)


def add_address(lab, cidr: str, iface: str) -> None:
    """ip -6 addr replace: the same command works when solve runs twice."""
    lab["r1"].cmd(f"ip -6 addr replace {cidr} dev {iface}", check=True)


def deploy_lans(lab) -> None:
    v = variables(lab)
    for iface, net in R1_LANS.items():
        add_address(lab, v[f"r1_{net}"], iface)


def plan(lab):
    write_plan(lab, plan_text(lab))


def deploy(lab):
    deploy_lans(lab)
    add_address(lab, variables(lab)["r1_loopback"] + "/128", "lo")
    lab["r1"].wait_addresses_ready()


SOLUTION = {
    "plan": plan,
    "deploy": deploy,
}
