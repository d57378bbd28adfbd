"""The command line in the trainee's language (docs/translating.md).

Click builds a command's help from the text given to its decorators, at
import time, before `--lang` is parsed; and xgettext does not extract
docstrings. So every command and option of v6lab gives its help as
`help=N_("…")` (marked, not translated) and the classes here translate it
when the help is formatted, in whatever language was chosen by then:

    @command(help=N_("Stop a running lab."))
    @option("--all", is_flag=True, help=N_("Stop every detached lab."))

Click's own words ("Usage:", "Options:", its error messages) go through
Python's process-wide `gettext.gettext`, which reads only the environment:
`apply_language` binds that domain to v6lab's catalogue and sets
`LANGUAGE` to the language v6lab chose, so click says the same language
as v6lab whichever way it was chosen (`--lang`, `V6LAB_LANG`, the locale).
The click messages v6lab can show are listed in `_click_messages` below,
so that they reach the catalogue.

This module imports nothing of the command package (see _common).
"""

from __future__ import annotations

import gettext
import os
import sys
from typing import Any, Callable, Optional

import click

from .. import i18n
from ..i18n import N_, _, ngettext

# What apply_language changes in the environment, restored by Group.main
# for a caller that runs the command in its own process (tests, scripts).
_SAVED_VARS = ("LANGUAGE", i18n.ENV_VAR)


def apply_language(code: Optional[str] = None) -> None:
    """Makes v6lab and click speak `code` (None: what V6LAB_LANG or the
    locale say). Also sets V6LAB_LANG, so that the processes v6lab starts
    (a lab's supervisor places per-node files in the trainee's language)
    speak it too. An unknown code is English, never an error."""
    if code is not None:
        i18n.set_language(code)
        # The environment cannot hold a NUL; such a code is English anyway.
        os.environ[i18n.ENV_VAR] = code if "\0" not in code else i18n.SOURCE_LANGUAGE
    prefs = i18n.preferences()
    # gettext reads LANGUAGE first: the sanitised list, never a raw value (a
    # path in LANG would otherwise name a folder to read a catalogue from).
    os.environ["LANGUAGE"] = ":".join(prefs) if prefs else i18n.SOURCE_LANGUAGE
    gettext.bindtextdomain(i18n.DOMAIN, str(i18n.LOCALE_DIR))
    gettext.textdomain(i18n.DOMAIN)


def _set_lang(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> None:
    """--lang's callback: eager, so that every later message of the parse
    (a bad option of a command) is already in that language."""
    if value is not None and not ctx.resilient_parsing:
        apply_language(value)


def _tr(text: Optional[str]) -> Optional[str]:
    return _(text) if text else text


class Option(click.Option):
    """An option whose help is translated when the help is shown."""

    def get_help_record(self, ctx: click.Context) -> Optional[tuple[str, str]]:
        original = self.help
        self.help = _tr(original)
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = original


class _Translated:
    """What Command and Group share: the help, short help and epilog
    passed through the catalogue when they are formatted."""

    help: Optional[str]
    short_help: Optional[str]
    epilog: Optional[str]

    def get_short_help_str(self, limit: int = 45) -> str:
        saved = self.help, self.short_help
        self.help, self.short_help = _tr(self.help), _tr(self.short_help)
        try:
            return super().get_short_help_str(limit)  # type: ignore[misc]
        finally:
            self.help, self.short_help = saved

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        saved = self.help
        self.help = _tr(saved)
        try:
            super().format_help_text(ctx, formatter)  # type: ignore[misc]
        finally:
            self.help = saved

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        saved = self.epilog
        self.epilog = _tr(saved)
        try:
            super().format_epilog(ctx, formatter)  # type: ignore[misc]
        finally:
            self.epilog = saved


class Command(_Translated, click.Command):
    """A command whose help is translated when it is shown."""


class Group(_Translated, click.Group):
    """The v6lab group: translated help, and the language applied before
    anything is parsed (V6LAB_LANG, the locale; --lang then overrides it)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        saved = {var: os.environ.get(var) for var in _SAVED_VARS}
        explicit = i18n.set_language(None)  # the caller's choice, to restore
        i18n.set_language(explicit)
        # --lang is read here too, before click parses: a mistake in the
        # group's own options (`v6lab --lang vi --bogus`) is then reported
        # in that language as well.
        apply_language(_lang_in(kwargs.get("args", args[0] if args else None)))
        try:
            return super().main(*args, **kwargs)
        finally:
            # Nothing of a run stays in a process that runs several
            # (CliRunner): the language it chose, the variables it set.
            i18n.set_language(explicit)
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value


def _lang_in(argv: Any) -> Optional[str]:
    """The value of the group's --lang in argv (before the verb), if any."""
    if argv is None:
        argv = sys.argv[1:]
    items = list(argv) if isinstance(argv, (list, tuple)) else []
    for k, arg in enumerate(items):
        if not isinstance(arg, str) or not arg.startswith("-") or arg == "--":
            return None
        if arg == "--lang":
            return items[k + 1] if k + 1 < len(items) else None
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def command(name: Optional[str] = None, **attrs: Any) -> Callable[[Callable[..., Any]], Command]:
    """click.command with help translated when shown: pass help=N_("…")."""
    attrs.setdefault("cls", Command)
    return click.command(name, **attrs)


def option(*decls: str, **attrs: Any) -> Callable[[Callable[..., Any]], Any]:
    """click.option with help translated when shown: pass help=N_("…")."""
    attrs.setdefault("cls", Option)
    return click.option(*decls, **attrs)


def lang_option() -> Callable[[Callable[..., Any]], Any]:
    """The group's --lang CODE: any code (unknown ones are English)."""
    return option("--lang", metavar="CODE", expose_value=False, is_eager=True,
                  callback=_set_lang,
                  help=N_("Language of messages and help, e.g. vi (default: the locale)."))


def version_option(version: str) -> Callable[[Callable[..., Any]], Any]:
    """click.version_option, whose message click translates at import time
    (in English, before --lang): this one says it when it is asked for."""
    def show(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if not value or ctx.resilient_parsing:
            return
        click.echo(_("{prog}, version {version}").format(prog=ctx.find_root().info_name,
                                                          version=version))
        ctx.exit()
    return option("--version", is_flag=True, expose_value=False, is_eager=True,
                  callback=show, help=N_("Show the version and exit."))


def _click_messages() -> None:  # pragma: no cover - never called
    """Never called: lists click's messages that v6lab can show, marked as
    click writes them, so that xgettext puts them in v6lab's catalogue
    (click looks them up through gettext.gettext, in the domain
    apply_language binds). Plural forms are as click passes them."""
    N_("Usage:")
    N_("Options")
    N_("Commands")
    N_("Show this message and exit.")
    N_("Aborted!")
    N_("(Deprecated) {text}")
    N_("default: {default}")
    N_("required")
    N_("Error: {message}")
    # TRANSLATORS: {command} is "v6lab check", {option} is "-h".
    N_("Try '{command} {option}' for help.")
    N_("Missing command.")
    N_("No such command {name!r}.")
    N_("No such option: {name}")
    # TRANSLATORS: the English has one form for one possibility and another
    # for several: click fills {possibility} and {possibilities} with the
    # same list, so a language of one form may use either.
    # xgettext: no-python-brace-format
    ngettext("Did you mean {possibility}?", "(Possible options: {possibilities})", 1)
    ngettext("Got unexpected extra argument ({args})",
             "Got unexpected extra arguments ({args})", 1)
    N_("Invalid value: {message}")
    # TRANSLATORS: {param_hint} is an option or argument: '--format' or 'NODE'.
    N_("Invalid value for {param_hint}: {message}")
    N_("Missing argument")
    N_("Missing option")
    N_("Missing parameter")
    N_("Option {name!r} does not take a value.")
    ngettext("Option {name!r} requires an argument.",
             "Option {name!r} requires {nargs} arguments.", 1)
    # TRANSLATORS: {choice} is the list of allowed values: 'table', 'json'.
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 1)
    # TRANSLATORS: {number_type} is click's English name of the type: integer, float.
    N_("{value!r} is not a valid {number_type}.")
    # TRANSLATORS: {range} is a condition such as x>=0.
    N_("{value} is not in the range {range}.")
    N_("{value!r} is not a valid boolean.")
    N_("file")
    N_("directory")
    N_("path")
    # TRANSLATORS: {name} is "file", "directory" or "path" (translated above).
    N_("{name} {filename!r} does not exist.")
    N_("{name} {filename!r} is a file.")
    N_("{name} '{filename}' is a directory.")
    N_("{name} {filename!r} is not readable.")
    N_("{name} {filename!r} is not writable.")
    N_("Could not open file {filename!r}: {message}")
