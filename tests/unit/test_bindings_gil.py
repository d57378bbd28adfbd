"""No constructor in the bindings releases the GIL by a call guard.

pybind11 registers a new instance in its instance map after a ``py::init``
factory returns, inside the same call, so a ``py::call_guard<
py::gil_scoped_release>`` on ``py::init`` makes that registration run without
the GIL. Another thread freeing a pybind11 object at the same moment then
corrupts the map, and a later deallocation ends in ``std::terminate``
("Tried to deallocate unregistered instance!"): a rare abort of the whole
grader that took several full test runs to catch. The rule is to release the
GIL inside the factory (``py::gil_scoped_release r;``) instead; this test
reads the binding sources so that the rule cannot be broken silently. A
stress test could only make the race likelier, never prove its absence.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "bindings" / "src"


def init_calls(text: str) -> list[tuple[int, str]]:
    """Each ``.def(py::init...)`` call with its arguments, as (line, text)."""
    found = []
    for m in re.finditer(r"\.def\(\s*py::init", text):
        depth, i = 0, m.start() + len(".def")
        while True:
            c = text[i]
            depth += c == "("
            depth -= c == ")"
            i += 1
            if depth == 0:
                break
        found.append((text.count("\n", 0, m.start()) + 1, text[m.start():i]))
    return found


def guarded(call: str) -> bool:
    """Whether the ``.def`` call passes a GIL-releasing call guard."""
    return bool(re.search(r"call_guard\s*<|\brel\s*\(\s*\)", call))


def test_the_parser_sees_a_guard_and_its_absence() -> None:
    good = '.def(py::init([](int a) { py::gil_scoped_release r; return f(a); }), py::arg("a"))'
    bad = '.def(py::init([](int a) { return f(a); }), py::arg("a"), rel())'
    worse = ".def(py::init<int>(), py::call_guard<py::gil_scoped_release>())"
    assert [guarded(c) for _, c in init_calls(good + bad + worse)] == [False, True, True]


def test_no_constructor_releases_the_gil_by_a_call_guard() -> None:
    sources = sorted(SRC.glob("*.cpp"))
    assert sources, f"no binding sources under {SRC}"
    calls = [(p.name, line, c) for p in sources for line, c in init_calls(p.read_text())]
    assert calls, "no py::init found: the parser no longer matches the bindings"
    bad = [f"{name}:{line}" for name, line, c in calls if guarded(c)]
    assert not bad, f"py::init with a GIL-releasing call guard (release inside the factory): {bad}"
