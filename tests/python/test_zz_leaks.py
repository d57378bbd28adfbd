"""Runs last (files run in name order): after the whole suite the host has
no extra links, named namespaces, network namespaces or v6lab processes, and
no live lab records."""

from __future__ import annotations

from conftest import host_links, netns_inodes, v6lab_processes
from v6lab import registry, wait_until


def test_nothing_left_behind(snapshot):
    assert host_links() == snapshot["links"]
    import os
    named = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
    assert named == snapshot["named_netns"]
    # Processes of dead labs may take a moment to be reaped.
    wait_until(lambda: v6lab_processes() <= snapshot["procs"], 5,
               what="v6lab processes to exit")
    wait_until(lambda: netns_inodes() <= snapshot["netns"], 5,
               what="network namespaces made by the tests to go")
    assert [r.id for r in registry.running()] == []
