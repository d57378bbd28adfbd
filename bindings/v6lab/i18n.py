"""Translations: which language a trainee reads, and the catalogues that say it.

Standard gettext, so that translators and lab authors use the tools they
know (docs/translating.md): English source strings are the message ids,
marked in the code with `_()` (translated where it runs) or `N_()` (only
marked, for text declared at import time and translated where it is
used). Catalogues are `.po` files compiled to `.mo` by the build
(msgfmt, from Debian's gettext):

    bindings/v6lab/locale/<lang>/LC_MESSAGES/v6lab.po     the core's (domain "v6lab")
    labs/<id>/locale/<lang>/LC_MESSAGES/<id>.po           a lab's own (domain = lab id)

A lab's messages are looked up in its own catalogue, then the core's, then
left in English. Every lookup falls back *per message*: a message missing
from every catalogue (or translated as empty) is shown in English, never as
an empty string or a key, and a language nobody ships is English.

The language is, highest first: set_language() (the `--lang` option),
$V6LAB_LANG, then the locale as gettext reads it ($LANGUAGE, $LC_ALL,
$LC_MESSAGES, $LANG: the first that is set, e.g. LANG=vi_VN.UTF-8). It is
read at every lookup, so labs and checks created after the choice are in
that language; text a lab declares at import time (its title, its
mistakes) is translated when the lab is loaded (v6lab.course.load_lab).

Placeholders are named and filled after translation, so that a translator
may move them: `_("{node} has no default route").format(node=node)`, never
an f-string inside `_()` (xgettext cannot extract it, and the translation
would never be found). Lab text uses the lab's `${variables}` instead,
filled in by the lab loader after translation.
"""

from __future__ import annotations

import _thread
import os
# typing and pathlib are imported only by type checkers (TYPE_CHECKING is
# true for them), gettext only when a catalogue is read, and re, pathlib and
# threading not at all: classroom.quick, a trainee's `v6lab check` in a
# class, only asks which language is wanted, and those imports cost each
# such command more CPU than the rest of it (docs/performance.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import gettext
    from pathlib import Path
    from typing import Optional, Sequence, Union

DOMAIN = "v6lab"
# The core's catalogues (a str: see above; a path-like is accepted wherever
# a folder is asked for).
LOCALE_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "locale")
# The language of the source strings (the message ids): always complete.
SOURCE_LANGUAGE = "en"
ENV_VAR = "V6LAB_LANG"
# gettext's own order (Python's gettext.find reads the same variables).
LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_explicit: Optional[str] = None
_lock = _thread.allocate_lock()
# (domain, localedir, languages) -> the chain of catalogues for them.
_cache: dict[tuple[str, str, tuple[str, ...]], gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Marks a message for extraction without translating it: for text
    declared at import time (a lab's title, a Mistake's description, a
    constant), which is translated where it is used."""
    return message


def set_language(code: Optional[str]) -> Optional[str]:
    """The explicit choice (the CLI's --lang), above $V6LAB_LANG and the
    locale; None goes back to those. Returns the previous explicit choice,
    so a caller can restore it. A code nobody ships is English, not an
    error (the CLI may refuse it first with available_languages())."""
    global _explicit
    previous, _explicit = _explicit, (code or None)
    return previous


class using:
    """set_language(code) for a block (process-wide: checks run in threads)."""

    def __init__(self, code: Optional[str]) -> None:
        self._code = code
        self._previous: Optional[str] = None

    def __enter__(self) -> None:
        self._previous = set_language(self._code)

    def __exit__(self, *_exc: object) -> None:
        set_language(self._previous)


# A language, then a region, [A-Za-z]{2,8}(_[A-Za-z0-9]{2,8})?: what a
# catalogue's folder may be called. Any other value (a path, "../x") names
# no catalogue: the names become paths. (Tested by hand, without re: on an
# ASCII string, isalpha and isalnum are [A-Za-z] and [A-Za-z0-9].)
def _is_code(code: str) -> bool:
    lang, sep, region = code.partition("_")
    return (code.isascii() and 2 <= len(lang) <= 8 and lang.isalpha()
            and (not sep or (2 <= len(region) <= 8 and region.isalnum())))


def normalize(code: str) -> list[str]:
    """One locale or language name as gettext catalogue names, most specific
    first: "vi_VN.UTF-8" -> ["vi_VN", "vi"], "pt-BR" -> ["pt_BR", "pt"],
    "C" and "POSIX" (no language) -> ["en"], "" or anything that is not a
    language code -> []."""
    code = code.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if code in ("C", "POSIX"):
        return [SOURCE_LANGUAGE]
    if not _is_code(code):
        return []
    lang, region = code.partition("_")[::2]
    lang = lang.lower()
    return [f"{lang}_{region.upper()}", lang] if region else [lang]


def _expand(value: str) -> tuple[str, ...]:
    """A colon-separated list of codes ($LANGUAGE may say "vi:en") as catalogue
    names in order; English ends it, since every message exists in English."""
    out: list[str] = []
    for code in value.split(":"):
        for name in normalize(code):
            if name == SOURCE_LANGUAGE:
                return tuple(out)
            if name not in out:
                out.append(name)
    return tuple(out)


def preferences() -> tuple[str, ...]:
    """The languages to look messages up in, in order, from the highest
    source that names any (see the module doc); empty means English."""
    for value in (_explicit, os.environ.get(ENV_VAR)):
        if value and value.strip():
            return _expand(value)
    for var in LOCALE_VARS:
        value = os.environ.get(var)
        if value:
            return _expand(value)
    return ()


def available_languages(localedir: Union[str, Path] = LOCALE_DIR,
                        domain: str = DOMAIN) -> list[str]:
    """English, then every language with a compiled catalogue of `domain`."""
    try:
        names = os.listdir(localedir)
    except OSError:  # no such folder (or not one): English only
        names = []
    found = sorted(n for n in names
                   if os.path.isfile(os.path.join(localedir, n, "LC_MESSAGES", f"{domain}.mo")))
    return [SOURCE_LANGUAGE] + [x for x in found if x != SOURCE_LANGUAGE]


def language() -> str:
    """The language v6lab speaks now: the first preferred one it ships a
    catalogue for, else English."""
    shipped = set(available_languages())
    return next((x for x in preferences() if x in shipped), SOURCE_LANGUAGE)


def translation(domain: str = DOMAIN, localedir: Union[str, Path] = LOCALE_DIR,
                fallback: Optional[gettext.NullTranslations] = None) -> gettext.NullTranslations:
    """The catalogues of `domain` for the preferred languages, then
    `fallback` (a lab's falls back to the core's), then English. Cached per
    language list: building one reads files, a lookup must not."""
    import gettext
    langs = preferences()
    key = (domain, str(localedir), langs)
    with _lock:
        t = _cache.get(key)
        if t is not None:
            return t
    if langs:
        # A copy per call (gettext caches the catalogues themselves), so the
        # fallback added here is this chain's only.
        t = gettext.translation(domain, str(localedir), languages=list(langs), fallback=True)
    else:
        t = gettext.NullTranslations()
    if fallback is not None:
        t.add_fallback(fallback)
    with _lock:
        return _cache.setdefault(key, t)


def lab_translation(folder: Union[str, Path], domain: str) -> gettext.NullTranslations:
    """A lab's catalogue (folder/locale/<lang>/LC_MESSAGES/<domain>.mo),
    falling back to the core's, then English."""
    return translation(domain, os.path.join(folder, "locale"), fallback=translation())


def lookup(t: gettext.NullTranslations, message: str) -> str:
    """t's translation of message, or message itself: never empty (gettext
    answers "" with the catalogue's header, and a hand-made .mo may hold an
    empty translation)."""
    if not message:
        return message
    return t.gettext(message) or message


def _(message: str) -> str:
    """The core's translation of message in the current language."""
    return lookup(translation(), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The core's translation of a message whose form depends on a count n
    (Vietnamese has one form, English two): `ngettext("{n} step", "{n}
    steps", n).format(n=n)`."""
    return translation().ngettext(singular, plural, n) or (singular if n == 1 else plural)


def join_and(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c", with the current language's "and"."""
    items = [str(x) for x in items]
    if len(items) < 2:
        return "".join(items)
    # TRANSLATORS: the end of a list: "a, b and c".
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


def clear_cache() -> None:
    """Forgets the built chains (for tests that write catalogues)."""
    with _lock:
        _cache.clear()
