"""The owner process of a detached lab (see v6lab.detached).

Reads {"spec", "source", "id"} as JSON on stdin, builds the lab, writes
"ok ID" (or the error) to the fd given as argv[1], then waits for SIGTERM,
SIGINT or SIGHUP and stops the lab.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback


def main() -> int:
    ready = int(sys.argv[1])
    stop_signals = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        from .lab import Lab

        req = json.loads(sys.stdin.read())
        lab = Lab(req["spec"], source=req["source"])
        lab.id = req["id"]
        lab.detached = True
        if req.get("course"):
            from .course import find_lab
            definition = find_lab(req["course"])
            lab.meta = {"course": definition.id, "vars": dict(definition.vars)}
        lab.start()
        if req.get("course"):
            try:
                definition.initial_state(lab)  # files, then the lab's setup()
            except BaseException:
                lab.stop()
                raise
    except Exception as e:  # reported to the starter, who raises it again
        from . import errors
        known = type(e).__name__ in errors.__all__
        kind = type(e).__name__ if known else "Error"
        msg = str(e.args[0] if type(e).__name__ == "SpecError" else e) if known else \
            "".join(traceback.format_exception(e)).strip()
        os.write(ready, f"error {kind}\n{msg or 'the lab could not be started'}".encode())
        return 1
    os.write(ready, f"ok {lab.id}".encode())
    os.close(ready)
    signal.sigwait(stop_signals)
    lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
