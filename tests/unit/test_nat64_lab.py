"""Lab 12 (labs/nat64) without root: its addresses are derived as RFC 6052
says, and a machine where tayga cannot open /dev/net/tun refuses the lab
(and skips its tests) with one sentence that names the fix; so does lab 13
(labs/ipv6-mostly), whose ISP runs tayga too."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from v6lab import userns
from v6lab.course import LabDefinition, load_lab
from v6lab.errors import UnsupportedKernelError

LAB = Path(__file__).resolve().parents[2] / "labs" / "nat64"


@pytest.fixture
def d():
    return load_lab(LAB)


def test_synthesised_addresses_embed_the_ipv4_address(d):
    v = d.variables
    assert v["nat64_v4only"] == "2001:db8:100:64::cb00:7128"        # 203.0.113.40
    assert (v["discovery_aa"], v["discovery_ab"]) == ("2001:db8:100:64::c000:aa",
                                                      "2001:db8:100:64::c000:ab")


@pytest.mark.parametrize("lab", ["nat64", "ipv6-mostly"])
@pytest.mark.parametrize("error,rootless,words", [
    (PermissionError(errno.EACCES, "Permission denied"), True,
     ("/dev/net/tun is not accessible to this user", "run v6lab as root",
      "chmod 0666 /dev/net/tun")),
    (PermissionError(errno.EPERM, "Operation not permitted"), False,
     ("/dev/net/tun cannot be opened even by root", "container must be allowed")),
    (FileNotFoundError(errno.ENOENT, "No such file or directory"), True,
     ("no TUN device", "No such file or directory", "modprobe tun", "CONFIG_TUN")),
])
def test_no_tun_refuses_the_lab_naming_the_fix(lab, monkeypatch, error, rootless, words):
    """Both NAT64 labs declare "tun" and nothing else of their own: the
    framework's one sentence refuses them, with the advice that fits how
    v6lab runs (root cannot be told to run as root)."""
    real_open = os.open

    def refuse(path, *a, **kw):
        if path == "/dev/net/tun":
            raise error
        return real_open(path, *a, **kw)
    monkeypatch.setattr(os, "open", refuse)
    monkeypatch.setattr(os, "geteuid", lambda: 1000 if rootless else 0)
    monkeypatch.setattr(userns, "in_initial_userns", lambda: not rootless)
    d = load_lab(LAB.parent / lab)
    assert "tun" in d.kernel_features
    assert type(d).missing_kernel_features is LabDefinition.missing_kernel_features
    missing = d.missing_kernel_features()
    assert len(missing) == 1 and all(w in missing[0] for w in words), missing
    with pytest.raises(UnsupportedKernelError, match=f"lab {lab} cannot run on this machine: "):
        d.require_kernel()
