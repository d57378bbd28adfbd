"""Lab 12 (labs/nat64) without root: its addresses are derived as RFC 6052
says, and a machine where tayga cannot open /dev/net/tun refuses the lab
(and skips its tests) with one sentence that names the fix."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from v6lab.course import load_lab

LAB = Path(__file__).resolve().parents[2] / "labs" / "nat64"


@pytest.fixture
def d():
    return load_lab(LAB)


def test_synthesised_addresses_embed_the_ipv4_address(d):
    v = d.variables
    assert v["nat64_v4only"] == "2001:db8:100:64::cb00:7128"        # 203.0.113.40
    assert (v["discovery_aa"], v["discovery_ab"]) == ("2001:db8:100:64::c000:aa",
                                                      "2001:db8:100:64::c000:ab")


@pytest.mark.parametrize("error,words", [
    (PermissionError(errno.EACCES, "Permission denied"),
     ("/dev/net/tun is not accessible", "run v6lab as root", "chmod 0666 /dev/net/tun")),
    (FileNotFoundError(errno.ENOENT, "No such file"), ("CONFIG_TUN",)),
])
def test_no_tun_refuses_the_lab_naming_the_fix(d, monkeypatch, error, words):
    real_open = os.open

    def refuse(path, *a, **kw):
        if path == "/dev/net/tun":
            raise error
        return real_open(path, *a, **kw)
    monkeypatch.setattr(os, "open", refuse)
    missing = d.missing_kernel_features()
    assert len(missing) == 1 and all(w in missing[0] for w in words), missing
    from v6lab.course import UnsupportedKernelError
    with pytest.raises(UnsupportedKernelError, match="lab nat64 cannot run on this machine"):
        d.require_kernel()
