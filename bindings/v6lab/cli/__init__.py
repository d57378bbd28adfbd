"""The v6lab command: the click group, and the command modules whose verbs
it lists (one module per area):

  lab_commands   up, down/stop, status/ls, validate, clean
  node_commands  inspect, exec, shell, capture
  training       labs, start, check, hint, solve, reset, progress
  info           demo, doctor, images, graph
  class_commands class (the classroom service and the instructor's view);
                 it also sends the trainee's verbs above to the service when
                 a class is in force (in_class)

What they share (exit codes, the error decorator, picking a lab) is in
_common, the table of a lab's addresses in _views, the translated help and
--lang in _i18n. No module of this
package imports this one: each command module defines plain click commands
and this module adds them to the group, so `python -m v6lab.cli`,
`python -m v6lab` and `./v6lab` all see every verb, and any module can be
imported on its own. Exit codes: see _common and docs/cli.md.
"""

from __future__ import annotations

from typing import Optional

import click

from ..i18n import N_
from . import class_commands, info, lab_commands, node_commands, training
# Re-exported: scripts and tests register commands on main with errors, and
# call run() and _check_environment() as they did when the CLI was one file.
from ._common import EXIT_FAILED, EXIT_INTERNAL, _check_environment, _internal, errors
from ._i18n import Group, lang_option, version_option

__all__ = ["main", "run", "errors"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             help=N_("v6lab: IPv6 training labs on real Linux networking."))
@version_option("0.1.0")
@lang_option()
@click.pass_context
def main(ctx: click.Context) -> None:
    """The group's callback: runs before every verb (--lang, being eager,
    has been applied by then)."""
    verb = ctx.invoked_subcommand
    cmd = main.get_command(ctx, verb) if verb else None
    if getattr(cmd, "_v6lab_class", False) and class_commands.client.class_socket() is not None:
        return  # the class keeps the records: no local state directory is needed
    _check_environment(verb)


for _module in (lab_commands, node_commands, training, info, class_commands):
    for _name, _command in _module.COMMANDS.items():
        main.add_command(class_commands.in_class(_command), _name)


def run(argv: Optional[list[str]] = None) -> int:
    """The command's entry point: click's own handling of usage errors, and
    a last guard that turns an unexpected exception into one line."""
    try:
        main.main(args=argv, prog_name="v6lab", standalone_mode=True)
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_FAILED)
    except Exception as e:  # noqa: BLE001 - the last resort, reported as a bug
        try:
            _internal(e)
        except SystemExit as done:
            return int(done.code or EXIT_INTERNAL)
    return 0
