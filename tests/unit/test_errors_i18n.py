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
