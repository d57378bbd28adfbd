"""Every lab of the curriculum, graded for real: a fresh lab scores 0 with
its first step failing; the reference solution scores 100 %; each scripted
common mistake fails exactly the step it targets, with that step's hint.

Each of the three also runs in Vietnamese (LANG=vi_VN.UTF-8, as a trainee's
machine says it): the statuses are the same, and titles, hints and
messages are the catalogues' Vietnamese (docs/translating.md)."""

from __future__ import annotations

import gettext
import os

import pytest

from v6lab import Lab, i18n
from v6lab.course import LabDefinition, load_lab, load_labs, render

LABS = load_labs()  # in English: tests/conftest.py sets V6LAB_LANG=en
MISTAKES = [(d.id, m.name) for d in LABS.values() for m in d.mistakes]
# V6LAB_TEST_LANGS=en runs English only (the rootless re-run: the language
# does not change what a user namespace must allow, and it halves the time).
LANGS = os.environ.get("V6LAB_TEST_LANGS", "en vi").split()
# Letters only Vietnamese uses among the languages of these messages: a
# message with none of them is not Vietnamese.
VIETNAMESE = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


@pytest.fixture
def in_language(monkeypatch):
    """Returns the lab definition loaded in `lang`: English as the suite
    runs, Vietnamese from the locale alone (nothing above LANG is set)."""
    def load(lab_id: str, lang: str) -> LabDefinition:
        if lang == "en":
            return LABS[lab_id]
        for var in (i18n.ENV_VAR, "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("LANG", "vi_VN.UTF-8")
        assert i18n.language() == "vi"
        return load_lab(LABS[lab_id].folder)
    return load


def check_vietnamese(d: LabDefinition, report, lang: str) -> None:
    """In Vietnamese: each step's title, and the hint of each step that has
    one, is the lab catalogue's translation of the English (read from the
    .mo directly) and not the English; each message of a failed or skipped
    step is Vietnamese (every check module's messages are translated)."""
    if lang == "en":
        return
    mo = d.folder / "locale" / "vi" / "LC_MESSAGES" / f"{d.domain}.mo"
    with open(mo, "rb") as f:
        cat = gettext.GNUTranslations(f)
    with i18n.using("en"):
        english = {s.id: s for s in LABS[d.id].steps()}   # templates, before ${} are filled
    grader = d.grader()
    for s in report.steps:
        en = english[s.id]
        assert s.title == render(cat.gettext(en.title), d.vars) != render(en.title, d.vars)
        if s.hint is not None:
            k = list(grader.step(s.id).hints).index(s.hint)
            assert s.hint == render(cat.gettext(en.hints[k]), d.vars) != render(en.hints[k], d.vars)
        if s.status == "pass":
            continue
        bad = next(c for c in s.checks if c.status != "pass")
        check = next(c for c in grader.step(s.id).checks if c.id == bad.id)
        assert VIETNAMESE & set(s.message.lower()), \
            f"{s.id}: not Vietnamese ({check.fn.__module__}): {s.message}"


def start(lab_factory, d: LabDefinition) -> Lab:
    missing = d.missing_kernel_features()
    if missing:
        pytest.skip("; ".join(missing))
    lab = lab_factory(d.topology(), name=d.id)
    d.initial_state(lab)
    return lab


def test_curriculum_has_the_first_three_labs():
    assert list(LABS)[:3] == ["link-local", "static-gua", "slaac"]
    # Labs 4-7 follow, in the curriculum's order (more may come after them).
    part2 = ["address-plan", "stateless-dhcpv6", "stateful-dhcpv6", "prefix-delegation"]
    assert [i for i in LABS if i in part2] == part2
    assert list(LABS).index("address-plan") == 3
    # Part 4 (issue #13), one line per lab: each after the labs before it.
    assert list(LABS).index("dual-stack-services") > list(LABS).index("prefix-delegation")
    # Part 4 comes after part 2; one line per lab, so that labs merge on their own.
    assert list(LABS).index("nat64") > list(LABS).index("prefix-delegation")
    # Part 4 (labs 11-15) comes after part 2; one line per lab, so that
    # labs added side by side merge.
    assert list(LABS).index("pmtud") > list(LABS).index("prefix-delegation")
    # Part 4, one line per lab (labs written side by side merge).
    assert list(LABS).index("icmpv6-firewall") > list(LABS).index("prefix-delegation")
    for d in LABS.values():
        assert d.readme.exists() and d.instructions(), d.id
        assert set(d.solution) == {s.id for s in d.steps()}, d.id
        assert len(d.mistakes) >= 2, d.id
        assert all(s.hints for s in d.steps()), d.id


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("lab_id", list(LABS))
def test_fresh_lab_scores_zero(lab_factory, in_language, lab_id, lang):
    d = in_language(lab_id, lang)
    lab = start(lab_factory, d)
    report = d.grader().grade(lab)
    assert report.score == 0, report.to_json()
    assert report.steps[0].status == "fail", report.to_json()
    assert report.steps[0].hint == render(d.steps()[0].hints[0], d.vars)  # ${} filled
    assert all(s.status in ("fail", "skipped") for s in report.steps)
    check_vietnamese(d, report, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("lab_id", list(LABS))
def test_solution_scores_full_marks(lab_factory, in_language, lab_id, lang):
    d = in_language(lab_id, lang)
    lab = start(lab_factory, d)
    d.solve(lab)
    report = d.grader().grade(lab)
    assert report.score == 100, report.to_json()
    assert report.passed and not report.has_errors
    check_vietnamese(d, report, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("lab_id,mistake", MISTAKES, ids=[f"{a}:{b}" for a, b in MISTAKES])
def test_mistake_fails_exactly_its_step(lab_factory, in_language, lab_id, mistake, lang):
    d = in_language(lab_id, lang)
    m = next(x for x in d.mistakes if x.name == mistake)
    lab = start(lab_factory, d)
    for step in d.steps():
        if step.id == m.step:
            m.apply(lab)
            break
        d.solution[step.id](lab)
    report = d.grader().grade(lab)
    statuses = {s.id: s.status for s in report.steps}
    ids = [s.id for s in d.steps()]
    before = ids[:ids.index(m.step)]
    assert statuses[m.step] == "fail", report.to_json()
    assert all(statuses[i] == "pass" for i in before), report.to_json()
    assert all(s.status in ("skipped", "fail") for s in report.steps[ids.index(m.step) + 1:])
    step = report.step(m.step)
    assert step.hint == d.grader().step(m.step).hints[0]
    # The message names this mistake's cause (Mistake.expect, in English):
    # a message that blames something else fails here.
    assert m.expect, f"{lab_id}:{mistake} says nothing of the message it expects"
    if lang == "en":
        for piece in m.expect:
            assert render(piece, d.vars) in step.message, (piece, step.message)
    else:
        assert step.message
    check_vietnamese(d, report, lang)
    if lang == "vi":
        english = next(x for x in LABS[lab_id].mistakes if x.name == mistake).description
        assert m.description != english and VIETNAMESE & set(m.description)


def test_kernel_features_are_probed_not_guessed(v6lab_available, tmp_path):
    """A lab that needs a kernel feature is refused with the missing option
    named, before anything is built; present features pass the probe."""
    from v6lab import _core
    from v6lab.course import UnsupportedKernelError
    assert _core.kernel_feature_missing("bridge") == ""
    assert _core.kernel_feature_missing("veth") == ""
    d = LABS["link-local"]
    d.kernel_features = ("no-such-link-kind",)
    try:
        with pytest.raises(UnsupportedKernelError, match="lab link-local cannot run on this machine: "
                           "this kernel has no no-such-link-kind support"):
            d.require_kernel()
    finally:
        d.kernel_features = ()
    for feature, option in (("sit", "CONFIG_IPV6_SIT"), ("dummy", "CONFIG_DUMMY"),
                            ("netem", "CONFIG_NET_SCH_NETEM")):
        why = _core.kernel_feature_missing(feature)
        assert why == "" or option in why, why  # absent here (see platform notes) or present
