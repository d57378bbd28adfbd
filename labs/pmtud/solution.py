"""The reference solution: what the README's tasks and last hints type."""

from __future__ import annotations

# The fix of the README: the audit's two drop rules become accept rules,
# in place (before ct state), so that the rest of the policy is unchanged.
FIX_PTB = ("sed -i 's/icmpv6 type packet-too-big drop/icmpv6 type packet-too-big accept/' "
           "/etc/nftables.conf && nft -f /etc/nftables.conf")


def upload_command(lab) -> str:
    v = lab.vars
    return (f"head -c 2000000 /dev/zero | timeout 10 socat - "
            f"TCP6:[{v['srv']}]:{v['upload_port']}")


def diagnose(lab):
    pc, srv = lab["pc"], lab.vars["srv"]
    # A script is faster than DAD on the office LAN (about a second).
    pc.wait_addresses_ready("eth0")
    lab["r1"].wait_addresses_ready()
    # 1352 + 48 = 1400 bytes pass; one byte more vanishes (the black hole).
    pc.cmd(f"ping -6 -c1 -W2 -M do -s 1352 {srv}", check=True)
    pc.cmd(f"echo 1400 > {lab.vars['answer']}", check=True)


def ptb(lab):
    lab["r1"].cmd(FIX_PTB, check=True)


def pmtu(lab):
    srv = lab.vars["srv"]
    # The ping itself fails (its packet was too big); the kernel learns.
    lab["pc"].cmd(f"ping -6 -c1 -W1 -M do -s 1452 {srv}")
    out = lab["pc"].cmd(f"ip -6 route get {srv}", check=True).stdout
    if "mtu 1400" not in out:
        raise AssertionError(f"pc did not learn the path MTU: {out}")


def upload(lab):
    out = lab["pc"].cmd(upload_command(lab), check=True).stdout
    if out.split() != ["2000000"]:
        raise AssertionError(f"srv did not get the whole upload: {out!r}")


SOLUTION = {
    "diagnose": diagnose,
    "ptb": ptb,
    "pmtu": pmtu,
    "upload": upload,
}
