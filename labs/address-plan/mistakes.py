"""Common mistakes in lab 4, scripted: the plans and deployments seen when
an enterprise numbers its first /48."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .lab import R1_LANS
from .solution import add_address, deploy_lans, plan_text, variables, write_plan


def sites_60(lab):
    # "16 networks per site is plenty": each site a /60, its networks the
    # first /64s of it. Sound, but no room to grow.
    v = variables(lab)
    text = plan_text(lab)
    for site, digit in (("hanoi", "1"), ("danang", "2")):
        text = text.replace(v[site], v[site].replace("/56", "/60"))
        for n, net in enumerate(("staff", "guest", "servers", "management"), 1):
            old = v[f"{site}_{net}"]
            text = text.replace(old, old.replace(f":{digit}{n}0::", f":{digit}0{n}::"))
    write_plan(lab, text)


def network_in_other_site(lab):
    # hanoi's guest LAN copied from danang's line and not edited.
    v = variables(lab)
    write_plan(lab, plan_text(lab).replace(f"guest: {v['hanoi_guest']}", f"guest: {v['danang_guest']}"))


def link_from_lan(lab):
    # The r1-r2 link numbered from the staff LAN "because r1 is there".
    v = variables(lab)
    staff = v["hanoi_staff"].replace("/64", "/127")
    write_plan(lab, plan_text(lab).replace(v["link_r1_r2"], staff))


def typo_in_allocation(lab):
    # The ISP's 2001:db8:4c00::/48 typed with a zero missing, everywhere.
    v = variables(lab)
    head = v["allocation"].split("::")[0]          # 2001:db8:4c00
    write_plan(lab, plan_text(lab).replace(head, head[:-1]))


def plan_is_a_link(lab):
    # The attack: plan.yaml made a link to a file only root may read, in
    # the hope that the grader (root on the host) echoes it back.
    lab["r1"].cmd("ln -sf /etc/shadow /root/plan.yaml", check=True)


def deployed_typo(lab):
    # The plan is right; eth3 was typed with a zero missing (…:13::1).
    v = variables(lab)
    for iface, net in R1_LANS.items():
        cidr = v[f"r1_{net}"]
        add_address(lab, cidr.replace(":130::", ":13::") if net == "servers" else cidr, iface)
    add_address(lab, v["r1_loopback"] + "/128", "lo")
    lab["r1"].wait_addresses_ready()


def loopback_64(lab):
    # The loopback given a /64, like a LAN.
    deploy_lans(lab)
    add_address(lab, variables(lab)["r1_loopback"] + "/64", "lo")
    lab["r1"].wait_addresses_ready()


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("sites-60", "plan", N_("gives each site a /60: no room for more networks"), sites_60,
            expect=(
                "2 problems in /root/plan.yaml on r1",
                "/root/plan.yaml:6: sites.hanoi:",
                "room for 12 more, and the brief asks for room for ${room} more",)),
    Mistake("network-in-other-site", "plan",
            N_("numbers a hanoi network from danang's /56, overlapping danang's guest LAN"),
            network_in_other_site,
            expect=(
                "sites.hanoi.networks.guest: ${danang_guest} is not inside its site hanoi "
                "(${hanoi}, line 6)",)),
    Mistake("link-from-lan", "plan", N_("numbers the r1-r2 link from the staff LAN's /64"),
            link_from_lan,
            expect=(
                "/root/plan.yaml:25: links.r1-r2:",
                "overlaps sites.hanoi.networks.staff (${hanoi_staff}, line 8)",)),
    Mistake("typo-in-allocation", "plan",
            N_("types the ISP's prefix with a zero missing: the plan is outside the /48"),
            typo_in_allocation,
            expect=(
                "/root/plan.yaml:2: allocation: 2001:db8:4c0::/48 is not the prefix your ISP "
                "gave (${allocation})",)),
    Mistake("plan-is-a-link", "plan",
            N_("makes /root/plan.yaml a symbolic link to /etc/shadow"), plan_is_a_link,
            expect=("/root/plan.yaml on r1 cannot be graded: a symbolic link is on the path",)),
    Mistake("deployed-typo", "deploy",
            N_("deploys servers with a zero missing (…:13::1/64): not the plan's /64"), deployed_typo,
            expect=(
                "r1:eth3 has 2001:db8:4c00:13::1/64, but the plan gives it "
                "sites.hanoi.networks.servers ${hanoi_servers}",)),
    Mistake("loopback-64", "deploy", N_("gives the loopback a /64 instead of a /128"), loopback_64,
            expect=("r1:lo has ${r1_loopback}/64, but the plan gives it ${r1_loopback}/128",)),
]
