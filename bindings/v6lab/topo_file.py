"""Reading topology files that may be hostile or simply wrong.

A topology file comes from a trainee, an instructor or a fuzzer, so reading
it must never hang (a FIFO or /dev/zero given as the file), exhaust memory (a
huge file, a YAML alias bomb), crash (nesting deep enough to overflow a
recursive parser) or let YAML's extra types slip through as something else
(dates, sets, binary, non-string keys that json.dumps would silently turn
into strings and merge). Every problem becomes a SpecError in the validator's
`SOURCE: FIELD: message` form; several problems are reported together.
"""

from __future__ import annotations

import datetime
import errno
import json
import math
import os
import stat
from typing import Any, Iterator, Optional

from ._core import SpecError

MAX_BYTES = 4 << 20      # a lab of 100,000 nodes is about 4 MiB of JSON
MAX_DEPTH = 64           # the validator's limit too; a topology needs about 6
MAX_VALUES = 2_000_000   # after YAML aliases are expanded
MAX_ALIASES = 100        # anchors are for sharing a few settings, not bombs
MAX_STRING = 4096        # no field of a topology is longer than a sysctl value
MAX_KEY = 256
MAX_INT_DIGITS = 40      # 2**64 has 20; more is never a topology value
MAX_ISSUES = 50

Issue = tuple[str, str, str]


def cut(text: str, limit: int = 40) -> str:
    """At most limit characters of text, so that a megabyte name is never
    echoed back into a terminal; control characters are escaped so that a
    message stays on one line."""
    short = text if len(text) <= limit else text[:limit] + "\u2026"
    return short.translate(_CONTROL)


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7f]}


def spec_error(issues: list[Issue]) -> SpecError:
    """A SpecError shaped like the core's: message lines and the tuples."""
    lines = [f"{s}: {f}: {m}" if f else f"{s}: {m}" for s, f, m in issues]
    return SpecError("\n".join(lines), issues)


def fail(source: str, field: str, message: str) -> SpecError:
    return spec_error([(source, field, message)])


class _BigInt(str):
    """An integer literal too long to be a topology value, kept as its text
    so that the value check can name its field."""


def read_topology(path: str, is_yaml: bool) -> Any:
    """The parsed content of a topology file, checked for everything JSON
    cannot carry and for the limits above; raises SpecError."""
    source = str(path)
    text = decode(read_bytes(path, source), source)
    data = _parse_yaml(text, source) if is_yaml else _parse_json(text, source)
    check_values(data, source)
    return data


def read_bytes(path: str, source: str) -> bytes:
    """The file's bytes; only regular files, opened without blocking (a FIFO
    would otherwise wait forever for a writer), and at most MAX_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as e:
        raise fail(source, "", f"cannot be read: {e.strerror}") from None
    except ValueError:  # an embedded NUL in the path
        raise fail(source, "", "cannot be read: the path contains a NUL character") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise fail(source, "", "is a directory, not a topology file")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else
                    "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                    "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise fail(source, "", f"is {kind}, not a regular topology file")
        if st.st_size > MAX_BYTES:
            raise fail(source, "", f"is {st.st_size} bytes long; topology files are read "
                                   f"up to {MAX_BYTES // (1 << 20)} MiB")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                raise fail(source, "", f"cannot be read: {e.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:  # it grew while we read it
            raise fail(source, "", f"is more than {MAX_BYTES // (1 << 20)} MiB long")
        return b"".join(chunks)
    finally:
        os.close(fd)


_BOMS = [(b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"), (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
         (b"\xfe\xff", "UTF-16 (big-endian)"), (b"\xff\xfe", "UTF-16 (little-endian)")]


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); any other encoding
    is named, with where it goes wrong, instead of a decoder traceback."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise fail(source, "", f"is {name} (byte-order mark found); save it as UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise fail(source, f"line {line}",
                   f"NUL byte at byte {nul}: not UTF-8 text (UTF-16 without a byte-order mark?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise fail(source, f"line {line}", f"not UTF-8 at byte {e.start} (0x{data[e.start]:02x}); "
                                           "save the file as UTF-8") from None


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice would silently replace the first (two nodes of one
    name, say): make it an error, as Topo does."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _json_int(text: str) -> Any:
    return int(text) if len(text) <= MAX_INT_DIGITS else _BigInt(text)


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_json_int)
    except json.JSONDecodeError as e:
        raise fail(source, f"line {e.lineno}", f"invalid JSON: {e.msg}") from None
    except _DuplicateKey as e:
        raise fail(source, "", f"duplicate key '{cut(str(e.args[0]))}'") from None
    except RecursionError:
        raise fail(source, "", f"nested more than {MAX_DEPTH} levels deep "
                               "(a topology needs about 6)") from None


def _parse_yaml(text: str, source: str) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - Debian's python3-yaml
        raise fail(source, "", "reading YAML needs the Debian package python3-yaml") from None
    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "syntax"
        problem = getattr(e, "problem", None) or str(e)
        raise fail(source, where, f"invalid YAML: {cut(str(problem), 200)}") from None
    except RecursionError:
        raise fail(source, "", f"nested more than {MAX_DEPTH} levels deep") from None


_LOADER: Optional[type] = None


def _loader() -> type:
    """SafeLoader plus: duplicate keys are errors, nesting and aliases are
    limited while composing (before anything is built), and over-long
    integers are kept as text for the value check."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class Loader(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._depth = 0
            self._aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise yaml.composer.ComposerError(
                        None, None, f"more than {MAX_ALIASES} aliases (*name): "
                        "refusing what could expand without bound", event.start_mark)
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise yaml.composer.ComposerError(
                        None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    def mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            try:
                dup = key in seen
            except TypeError:  # unhashable: SafeLoader says so below
                continue
            if dup:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{cut(str(key))}'", key_node.start_mark)
            seen.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    def integer(loader: Any, node: Any) -> Any:
        if len(str(node.value)) > MAX_INT_DIGITS:
            return _BigInt(str(node.value))
        return yaml.SafeLoader.construct_yaml_int(loader, node)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor("tag:yaml.org,2002:int", integer)
    _LOADER = Loader
    return Loader


def _describe(value: Any) -> Optional[str]:
    """What is wrong with a scalar, or None if JSON carries it faithfully."""
    if isinstance(value, _BigInt):
        return f"an integer of {len(value.lstrip('+-'))} digits is out of range"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if -(1 << 63) <= value < (1 << 64) else "integer out of range"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, str):
        return None if len(value) <= MAX_STRING else \
            f"a string of {len(value)} characters is too long (at most {MAX_STRING})"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"{value} was read as a date: quote it"
    if isinstance(value, (bytes, bytearray)):
        return "binary data (!!binary) is not a topology value"
    if isinstance(value, (set, frozenset)):
        return "a set (!!set) is not a topology value: write a list"
    return f"a {type(value).__name__} is not a topology value"


def _key_problem(key: Any) -> Optional[str]:
    if not isinstance(key, str):
        shown = "~ (null)" if key is None else cut(repr(key))
        return f"key {shown} is a {type(key).__name__}, not a string: quote it"
    if len(key) > MAX_KEY:
        return f"a key of {len(key)} characters is too long (at most {MAX_KEY})"
    return None


def _walk(data: Any) -> Iterator[tuple[str, Any, int]]:
    """(field path, value, depth) of every value, without recursion; a
    value reached through several YAML aliases is visited each time."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            items = [(k, v) for k, v in value.items()]
            for k, v in reversed(items):
                part = cut(k, 64) if isinstance(k, str) else cut(repr(k), 64)
                stack.append((f"{path}.{part}" if path else part, v, depth + 1))
        elif isinstance(value, list):
            for i in range(len(value) - 1, -1, -1):
                stack.append((f"{path}[{i}]", value[i], depth + 1))


def check_values(data: Any, source: str) -> None:
    """Refuses what JSON would carry wrongly or not at all, and structures
    too deep or too big; every problem found (up to MAX_ISSUES) at once."""
    issues: list[Issue] = []
    for count, (path, value, depth) in enumerate(_walk(data)):
        if count >= MAX_VALUES:
            issues.append((source, "", f"more than {MAX_VALUES:,} values once YAML aliases "
                                       "are expanded: not a topology"))
            break
        if depth > MAX_DEPTH:
            issues.append((source, cut(path, 80), f"nested more than {MAX_DEPTH} levels deep"))
            break
        if isinstance(value, dict):
            for k in value:
                why = _key_problem(k)
                if why:
                    part = cut(repr(k), 64) if not isinstance(k, str) else cut(k, 64)
                    issues.append((source, f"{path}.{part}" if path else part, why))
        elif not isinstance(value, list):
            why = _describe(value)
            if why:
                issues.append((source, path, why))
        if len(issues) >= MAX_ISSUES:
            break
    if issues:
        raise spec_error(issues)
