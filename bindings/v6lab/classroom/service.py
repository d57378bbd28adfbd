"""`python3 -m v6lab.classroom` (and `v6lab class serve`): starts the
classroom service in the foreground (systemd runs it so: see
deploy/systemd/v6lab-class.service)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Optional

from ..i18n import _
from . import server


def check_root() -> Optional[str]:
    """One sentence if this process cannot run the service."""
    from ..userns import in_initial_userns
    if os.geteuid() != 0 or not in_initial_userns():
        return _("the classroom service builds labs for others and must run as root "
                 "(sudo, or the systemd unit v6lab-class.service)")
    return None


def run(config: server.Config) -> int:
    problem = check_root()
    if problem:
        print(f"v6lab: {problem}", file=sys.stderr)
        return 4
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s v6lab-class: %(message)s")
    service = server.Service(config)
    try:
        service.bind()
    except OSError as e:
        what = f"{e.strerror}: {e.filename}" if e.strerror and e.filename else str(e)
        # TRANSLATORS: {error} is the system's reason and the path, in English.
        print("v6lab: " + _("cannot set up the classroom service: {error}").format(error=what),
              file=sys.stderr)
        return 1
    print(_("classroom service listening on {socket}").format(socket=config.socket_path),
          file=sys.stderr, flush=True)
    service.serve()
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m v6lab.classroom",
                                description="The v6lab classroom service (root only).")
    p.add_argument("--socket", type=Path, default=server.DEFAULT_SOCKET)
    p.add_argument("--state-dir", type=Path, default=server.DEFAULT_STATE_DIR)
    p.add_argument("--instructor-group", default="")
    p.add_argument("--max-labs", type=int, default=2)
    p.add_argument("--stuck-after", type=int, default=server.state.DEFAULT_STUCK_AFTER)
    a = p.parse_args(argv)
    return run(server.Config(socket_path=a.socket, state_dir=a.state_dir,
                             instructor_group=a.instructor_group, max_labs=a.max_labs,
                             stuck_after=a.stuck_after))
