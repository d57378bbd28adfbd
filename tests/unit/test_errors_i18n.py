"""Errors a trainee reads that the core writes in English are shown in the
trainee's language by errors.message (docs/translating.md)."""

from v6lab import _core, errors, i18n

CORE_TEXT = ("program 'radvd' is not installed; r1 (image router+radvd) need(s) it: install "
             "the Debian package radvd (apt-get install radvd)")


def test_missing_program_is_translated_and_keeps_names():
    e = _core.MissingBinaryError(CORE_TEXT)
    assert errors.message(e) == CORE_TEXT            # English: exactly the core's text
    with i18n.using("vi"):
        vi = errors.message(e)
    assert vi != CORE_TEXT and "chưa được cài" in vi
    assert "'radvd'" in vi and "r1 (image router+radvd)" in vi and "apt-get install radvd" in vi


def test_an_unknown_core_line_stays_as_it_is():
    e = _core.MissingBinaryError("something the core says in a new way")
    with i18n.using("vi"):
        assert errors.message(e) == "something the core says in a new way"


def test_a_catalogue_name_is_judged_as_its_pattern_says() -> None:
    """i18n tells catalogue names from paths without re (a trainee's check in
    a class would pay for importing it): by hand, exactly as the documented
    pattern [A-Za-z]{2,8}(_[A-Za-z0-9]{2,8})? would."""
    import random
    import re

    from v6lab import i18n
    rule = re.compile(r"[A-Za-z]{2,8}(_[A-Za-z0-9]{2,8})?")
    rng = random.Random(8)
    names = ["vi", "vi_VN", "en_US", "x", "abcdefghi", "vi_", "_vi", "vi_VN_x", "../vi", "vi_ÄB",
             "ⅷⅷ", "vi_123456789"]
    names += ["".join(rng.choice("aZ9_./é") for _ in range(rng.randrange(1, 20)))
              for _ in range(3000)]
    wrong = [n for n in names if i18n._is_code(n) != bool(rule.fullmatch(n))]
    assert not wrong, wrong[:5]
