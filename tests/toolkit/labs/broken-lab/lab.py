"""A lab that is broken on purpose: steps() names a check that does not
exist. It must be reported, with this file and line, and break no other."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c


class Lab(LabDefinition):
    title = "Broken on purpose"

    def topology(self) -> Topo:
        t = Topo("broken")
        t.add_host("h1")
        return t

    def steps(self) -> list[Step]:
        return [Step("one", "One", checks=[c.no_such_check("h1")])]
