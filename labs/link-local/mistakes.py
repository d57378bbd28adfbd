"""Common mistakes in lab 1, scripted. Each replaces the solution of one
step; grading must then fail exactly that step, with its hint."""

from v6lab.course import Mistake
from v6lab.grading.library import eui64_address
from v6lab.i18n import N_

from .solution import answer, h2_link_local


def mode_without_bounce(lab):
    # The sysctl alone adds a second link-local address; the EUI-64 one stays.
    lab["h2"].cmd("sysctl -w net.ipv6.conf.eth0.addr_gen_mode=3", check=True)


def ping_old_address(lab):
    # Pings the EUI-64 address h2 had before step 2: nobody has it any more.
    old = eui64_address("fe80::", lab["h2"].link("eth0").mac)
    lab["h1"].cmd(f"ping -c1 -W1 {old}%eth0")


def unicast_as_answer(lab):
    lab["h1"].cmd(f"echo {h2_link_local(lab)} > {answer(lab)}", check=True)


def all_nodes_as_answer(lab):
    lab["h1"].cmd(f"echo ff02::1 > {answer(lab)}", check=True)


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("mode-without-bounce", "stable-privacy",
            N_("sets addr_gen_mode but does not bring the interface down and up"), mode_without_bounce,
            expect=("h2:eth0 has 2 link-local addresses",)),
    Mistake("ping-old-address", "neighbour",
            N_("pings h2's old EUI-64 address, noted before step 2"), ping_old_address,
            expect=("h1 has no neighbour entry for fe80::",)),
    Mistake("unicast-as-answer", "solicited-node",
            N_("answers with h2's link-local address instead of its solicited-node group"),
            unicast_as_answer,
            expect=(
                "${answer_file} on h1 says fe80::",
                "which is not h2's solicited-node multicast group",)),
    Mistake("all-nodes-as-answer", "solicited-node",
            N_("answers with the all-nodes group ff02::1"), all_nodes_as_answer,
            expect=(
                "${answer_file} on h1 says ff02::1,",
                "which is not h2's solicited-node multicast group",)),
]
