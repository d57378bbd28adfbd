"""JSON for the protocol's lines, without importing the json module.

Why: a trainee's `v6lab check` in a class (classroom.quick) encodes one
small request and decodes one answer, and `import json` costs it more CPU
than everything else it imports together: json.decoder and json.scanner
import re (and re imports enum) to compile patterns that only the pure-
Python fallback parser uses. Thirty trainees checking at once pay for it
thirty times over on a two-core server (docs/performance.md).

The parsing is json's own: _json's scanner, the C code json.loads runs,
given the options json.loads gives it, so what is accepted and what each
value becomes is what json.loads says (tests/unit/test_classroom_protocol.py
compares the two on made-up and mangled lines). Two differences, both
refusals: NaN and Infinity are not JSON and are refused (json.loads takes
them), and so is a line with anything but whitespace after its value, as
json.loads does. Where _json is missing (another Python), the json module
does it all.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - CPython has it
    _json = None

_SPACE = " \t\n\r"  # JSON's whitespace, as json.loads skips it


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Options:
    """What _json's scanner reads from the object it is made from: the
    attributes json.decoder.JSONDecoder has for json.loads' defaults
    (except parse_constant, see the module doc)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constant)


_scan = _json.make_scanner(_Options()) if _json is not None else None


def loads(text: str) -> Any:
    """The value of one JSON text; ValueError (or RecursionError) if it is
    not one."""
    if _scan is None:
        import json
        return json.loads(text)
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as e:
        raise ValueError(f"no JSON value at character {e.value}") from None
    if text[end:].strip(_SPACE):
        raise ValueError(f"extra data after the JSON value at character {end}")
    return value


def dumps(obj: Any) -> str:
    """json.dumps(obj), the same text: by hand for what a request holds
    (objects and lists of strings, whole numbers, true, false and null), by
    the json module for anything else."""
    if _json is None:
        import json
        return json.dumps(obj)
    parts: list[str] = []
    if not _encode(obj, parts):
        import json
        return json.dumps(obj)
    return "".join(parts)


def _encode(obj: Any, out: list[str]) -> bool:
    """Appends obj's JSON to out; False for a kind left to json."""
    if obj is None:
        out.append("null")
    elif obj is True or obj is False:
        out.append("true" if obj else "false")
    elif isinstance(obj, str):
        out.append(_json.encode_basestring_ascii(obj))
    elif type(obj) is int:  # not a bool (above) nor an int subclass with its own repr
        out.append(int.__repr__(obj))
    elif type(obj) is dict:
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            if not isinstance(key, str):
                return False
            if i:
                out.append(", ")
            out.append(_json.encode_basestring_ascii(key))
            out.append(": ")
            if not _encode(value, out):
                return False
        out.append("}")
    elif type(obj) is list:
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(", ")
            if not _encode(value, out):
                return False
        out.append("]")
    else:
        return False
    return True
