"""pytest fixtures for testing labs (shipped for users, as pyroute2 does).

Enable with ``pytest_plugins = ["v6lab.pytest_plugin"]`` in a conftest.py.

- ``v6lab_available``: skips the test unless labs can be built here (root
  and network namespaces).
- ``lab_factory``: ``lab_factory(topo)`` starts a Lab and stops it after the
  test, pass or fail.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from . import _core
from .lab import Lab


def namespaces_available() -> tuple[bool, str]:
    """Whether this process can build labs, and if not, why."""
    why = _core.namespace_support()
    return not why, why


@pytest.fixture(scope="session")
def v6lab_available() -> None:
    ok, why = namespaces_available()
    if not ok:
        pytest.skip(why)


@pytest.fixture
def lab_factory(v6lab_available: None) -> Iterator[Callable[..., Lab]]:
    labs: list[Lab] = []

    def make(topo: Any, **kw: Any) -> Lab:
        lab = Lab(topo, **kw)
        lab.start()
        labs.append(lab)
        return lab

    yield make
    for lab in reversed(labs):
        lab.stop()
