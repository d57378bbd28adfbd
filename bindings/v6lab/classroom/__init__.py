"""The classroom: labs built, entered and graded for trainees without root
by a small privileged service, so that what the instructor sees can be
trusted (docs/classroom.md, and the trust model in docs/architecture.md).

  protocol  the JSON-lines protocol, every request checked (pure)
  state     the service's records per trainee, and the class view (pure)
  export    CSV, JSON, JUnit, xAPI and LTI AGS exports of the view (pure)
  server    the service: socket, peer credentials, locks, limits
  zygote    the fork server the workers come from (curriculum preloaded)
  worker    one request's work, in a process of its own, as root
  client    which mode is in force; requests from the v6lab command
  service   `python3 -m v6lab.classroom`: the service's command line

The command line's verbs for it are in v6lab.cli.class_commands.
"""

from ..i18n import N_

# Where a report from the service says it was graded (the worker draws the
# report, the client prints the other verbs' output under it).
GRADED_BY_SERVICE = N_("class mode: built and graded by the classroom service")
