"""Translations (docs/translating.md): every shipped catalogue is complete,
up to date with the sources and keeps every placeholder, address and
command of its messages; a missing translation falls back to English per
message, never to an empty string or a key; the language is chosen in the
documented order; Vietnamese text lines up in rich tables; labs get their
own catalogue, README and per-node files per language. No root needed."""

from __future__ import annotations

import ast
import gettext
import io
import re
import struct
import subprocess
import textwrap
import unicodedata
from pathlib import Path

import pytest

from conftest import ROOT
from v6lab import i18n
from v6lab.course import find_lab, load_lab, load_labs, render

CORE = ROOT / "bindings" / "v6lab"
LABS = ROOT / "labs"
SCRIPT = ROOT / "scripts" / "i18n"
# Every language the core ships a catalogue for; every lab of the
# curriculum must ship it too (issue 11: every lab has both languages).
SHIPPED = tuple(sorted(p.parent.parent.name for p in CORE.glob("locale/*/LC_MESSAGES/v6lab.po")))
CURRICULUM = tuple(sorted(p.parent.name for p in LABS.glob("*/lab.py")))
LOCALE_VARS = (i18n.ENV_VAR,) + i18n.LOCALE_VARS


def domains() -> list[Path]:
    """The core, then every lab of the curriculum: each has its own domain."""
    return [CORE] + [LABS / x for x in CURRICULUM]


def catalogue(folder: Path, lang: str) -> Path:
    domain = "v6lab" if folder == CORE else folder.name
    return folder / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"


CATALOGUES = [catalogue(f, lang) for f in domains() for lang in SHIPPED]
IDS = [str(p.relative_to(ROOT)) for p in CATALOGUES]


# ---------------------------------------------------------------- .po files

def parse_po(text: str) -> list[dict]:
    """The entries of a .po/.pot: msgid, msgid_plural, msgstr (list), flags,
    obsolete. Enough of the format for what gettext tools write."""
    entries: list[dict] = []
    cur: dict = {}
    key = None

    def flush() -> None:
        nonlocal cur
        if "msgid" in cur:
            entries.append(cur)
        cur = {}

    for raw in text.splitlines() + [""]:
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            flush()
            key = None
            continue
        if line.startswith("#,"):
            if "msgid" in cur:
                flush()
            cur.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            if "msgid" in cur and not obsolete:
                flush()
            continue
        m = re.match(r'(msgid_plural|msgid|msgstr(?:\[\d+\])?|msgctxt)\s+(".*")$', line)
        if m:
            key, value = m.group(1), ast.literal_eval(m.group(2))
            if key == "msgid" and "msgid" in cur:
                flush()
            cur["obsolete"] = obsolete
            if key.startswith("msgstr"):
                cur.setdefault("msgstr", []).append(value)
                key = ("msgstr", len(cur["msgstr"]) - 1)
            else:
                cur[key] = value
            continue
        if line.startswith('"') and key is not None:
            value = ast.literal_eval(line)
            if isinstance(key, tuple):
                cur["msgstr"][key[1]] += value
            else:
                cur[key] += value
    return [e for e in entries if e["msgid"] and not e.get("obsolete")]


def template(folder: Path) -> list[dict]:
    """What xgettext extracts from the sources now (scripts/i18n pot)."""
    r = subprocess.run([str(SCRIPT), "pot", str(folder)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return parse_po(r.stdout)


# {name}, and click's {name!r} (a conversion) and {n:>3} (a format spec).
BRACES = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(![rsa])?(?::[^{}]*)?\}")
LAB_VARS = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Words that are addresses, commands, options, file or interface names: they
# must come through translation unchanged.
TECHNICAL = re.compile(r"[A-Za-z0-9:/._=%+-]*[0-9:/._=%][A-Za-z0-9:/._=%+-]*")


ABBREVIATIONS = {"e.g", "i.e"}


def technical_words(text: str) -> set[str]:
    out = set()
    for word in BRACES.sub(" ", text).split():
        word = word.strip(".,;:!?()\"'")
        if (TECHNICAL.fullmatch(word) or word.startswith("-")) and word not in ABBREVIATIONS:
            out.add(word)
    return out


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_catalogue_complete_and_up_to_date(po: Path):
    """No untranslated or fuzzy message, none missing, none left over."""
    assert po.is_file(), f"{po}: missing (scripts/i18n add LANG)"
    entries = parse_po(po.read_text(encoding="utf-8"))
    untranslated = [e["msgid"] for e in entries if not all(e.get("msgstr", [""]))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", set())]
    assert not untranslated, f"{po}: untranslated: {untranslated}"
    assert not fuzzy, f"{po}: fuzzy (check, then remove the flag): {fuzzy}"
    have = {e["msgid"] for e in entries}
    want = {e["msgid"] for e in template(po.parents[3])}
    assert not want - have, f"{po}: not in the catalogue (run scripts/i18n update): {want - have}"
    assert not have - want, f"{po}: no longer in the sources (run scripts/i18n update): {have - want}"


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_translations_keep_placeholders_and_technical_words(po: Path):
    """Every {placeholder} and ${variable} of a message, and no other, is in
    its translation; so is every address, command and file name."""
    for e in parse_po(po.read_text(encoding="utf-8")):
        for tr in e["msgstr"]:
            for pattern in (BRACES, LAB_VARS):
                found = {m.group(0) for m in pattern.finditer(tr)}
                assert found == {m.group(0) for m in pattern.finditer(e["msgid"])}, \
                    f"{po}: placeholders differ:\n  {e['msgid']}\n  {tr}"
            lost = technical_words(e["msgid"]) - set(tr.split()) - technical_words(tr)
            assert not lost, f"{po}: {sorted(lost)} changed in translation:\n  {e['msgid']}\n  {tr}"


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_catalogue_compiles_and_is_built(po: Path, tmp_path):
    """msgfmt --check accepts it (as the build does), and the .mo beside it
    is what the build makes from it now: no stale catalogue is served."""
    fresh = tmp_path / "fresh.mo"
    r = subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    built = po.with_suffix(".mo")
    assert built.is_file(), f"{built}: not built (run ./scripts/setup)"
    assert built.read_bytes() == fresh.read_bytes(), f"{built}: stale (run ./scripts/setup)"


def test_text_is_nfc_utf8():
    """Vietnamese stored precomposed (NFC): one code point per letter, so
    terminals, rich and grep agree on what a word is and how wide it is."""
    files = list(CATALOGUES) + [LABS / x / f"README.{lang}.md" for x in CURRICULUM for lang in SHIPPED] + \
        [f for x in CURRICULUM for f in (LABS / x / "locale").rglob("nodes/**/*") if f.is_file()]
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), f"{f}: not NFC"
        assert "\ufffd" not in text, f


def test_no_f_string_is_marked():
    """An f-string inside _() is never found in a catalogue (xgettext
    cannot extract it): named placeholders and .format() instead."""
    bad = []
    for folder in domains() + [ROOT / "tests" / "toolkit" / "labs"]:
        for f in folder.rglob("*.py"):
            for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\b(N?_|ngettext)\(\s*[fF]['\"]", line):
                    bad.append(f"{f.relative_to(ROOT)}:{n}")
    assert not bad, bad


def test_no_message_is_marked_inside_an_f_string():
    """xgettext does not look inside f-strings: f"[b]{_('Done')}[/]" would
    never reach a catalogue (the CLI's first draft had three)."""
    bad = []
    for f in sorted(CORE.rglob("*.py")) + sorted(LABS.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                bad += [f"{f.relative_to(ROOT)}:{c.lineno}" for c in ast.walk(node)
                        if isinstance(c, ast.Call) and isinstance(c.func, (ast.Name, ast.Attribute))
                        and getattr(c.func, "id", getattr(c.func, "attr", "")) in ("_", "N_", "ngettext")]
    assert not bad, bad


def test_no_module_that_translates_names_a_variable_underscore():
    """`a, _ = f()` in a module that imports `_` makes `_` a local of the
    whole function: the next `_("…")` there calls the tuple's item (doctor's
    waitpid, the lab picker and capture did so once)."""
    bad = []
    for f in sorted(CORE.rglob("*.py")) + sorted(LABS.rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        imports = any(isinstance(n, ast.ImportFrom) and any(a.name == "_" for a in n.names)
                      for n in ast.walk(tree))
        if not imports:
            continue
        bad += [f"{f.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
                if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)]
    assert not bad, bad


# ------------------------------------------------------------ fallbacks

def mo_bytes(messages: dict[str, str]) -> bytes:
    """A .mo file as gettext reads it (what msgfmt writes), made by hand so
    that it can hold what msgfmt refuses to write, e.g. an empty translation."""
    ids = sorted(messages)
    kb = [k.encode() for k in ids]
    vb = [messages[k].encode() for k in ids]
    header = 7 * 4
    ko, vo = header, header + len(ids) * 8
    data_start = vo + len(ids) * 8
    koffsets, voffsets, blob = [], [], b""
    for b in kb:
        koffsets.append((len(b), data_start + len(blob)))
        blob += b + b"\0"
    for b in vb:
        voffsets.append((len(b), data_start + len(blob)))
        blob += b + b"\0"
    out = struct.pack("Iiiiiii", 0x950412DE, 0, len(ids), ko, vo, 0, 0)
    out += b"".join(struct.pack("ii", *x) for x in koffsets)
    out += b"".join(struct.pack("ii", *x) for x in voffsets)
    return out + blob


@pytest.fixture
def env(monkeypatch):
    """No language from the environment unless the test sets one."""
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)
    i18n.clear_cache()
    yield monkeypatch
    i18n.set_language(None)
    i18n.clear_cache()


def small_lab(folder: Path, po: str = "", nodes: dict[str, str] | None = None) -> Path:
    """A lab folder in tmp with an optional Vietnamese catalogue (compiled by
    msgfmt, as the build does) and per-node files."""
    folder.mkdir(parents=True)
    (folder / "lab.py").write_text(textwrap.dedent('''
        from v6lab import Topo
        from v6lab.course import LabDefinition, Mistake
        from v6lab.grading import Step, checks as c
        from v6lab.i18n import N_

        class Lab(LabDefinition):
            title = N_("A small lab")
            variables = {"who": "h1"}

            def topology(self):
                t = Topo("small")
                t.add_host("h1")
                return t

            def steps(self):
                _ = self._
                return [Step("one", _("Look at ${who}"), checks=[c.link_up("h1", "eth0")],
                             hints=[_("Untranslated hint"), _("Fuzzy hint")])]
        '''))
    (folder / "mistakes.py").write_text(textwrap.dedent('''
        from v6lab.course import Mistake
        from v6lab.i18n import N_
        MISTAKES = [Mistake("m", "one", N_("A small mistake"), lambda lab: None)]
        '''))
    if po:
        d = folder / "locale" / "vi" / "LC_MESSAGES"
        d.mkdir(parents=True)
        (d / f"{folder.name}.po").write_text(po, encoding="utf-8")
        # The test's minimal header lacks fields msgfmt warns about: kept
        # out of the log, and shown if msgfmt refuses the file.
        r = subprocess.run(["msgfmt", "--check", "-o", str(d / f"{folder.name}.mo"),
                            str(d / f"{folder.name}.po")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    for rel, text in (nodes or {}).items():
        f = folder / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return folder


SMALL_PO = textwrap.dedent('''\
    msgid ""
    msgstr ""
    "Content-Type: text/plain; charset=UTF-8\\n"
    "Language: vi\\n"

    msgid "A small lab"
    msgstr "Một bài nhỏ"

    #, python-brace-format
    msgid "Look at ${who}"
    msgstr "Hãy xem ${who}"

    msgid "Untranslated hint"
    msgstr ""

    #, fuzzy
    msgid "Fuzzy hint"
    msgstr "Gợi ý chưa được duyệt"
    ''')


def test_lab_catalogue_then_core_then_english(env, tmp_path):
    """A lab's message is looked up in its own catalogue, then the core's,
    then shown in English: untranslated and fuzzy entries are English, never
    empty, never a key."""
    d = load_lab(small_lab(tmp_path / "small", SMALL_PO))
    env.setenv("V6LAB_LANG", "vi")
    d = load_lab(d.folder)
    assert d.title == "Một bài nhỏ"
    step = d.grader().steps[0]
    assert step.title == "Hãy xem h1"                       # translated, then ${who} filled
    assert step.hints == ["Untranslated hint", "Fuzzy hint"]
    core = i18n._("complete step '{step}' first")
    assert core != "complete step '{step}' first" and d._("complete step '{step}' first") == core
    assert d._("A message nobody translated") == "A message nobody translated"
    assert d.mistakes[0].description == "A small mistake"   # not in the lab's catalogue
    assert step.checks[0].description == "h1:eth0 đang bật"  # the core's check, in Vietnamese
    assert d._("") == "" and i18n._("") == ""                # never the catalogue's header


def test_an_empty_translation_is_english(env, tmp_path):
    """A .mo that holds an empty translation (msgfmt never writes one, other
    tools might) still shows the English message."""
    d = tmp_path / "vi" / "LC_MESSAGES"
    d.mkdir(parents=True)
    (d / "x.mo").write_bytes(mo_bytes({"": "Content-Type: text/plain; charset=UTF-8\n",
                                       "Hello": "", "Bye": "Tạm biệt"}))
    env.setenv("V6LAB_LANG", "vi")
    t = i18n.translation("x", tmp_path)
    assert i18n.lookup(t, "Hello") == "Hello" and i18n.lookup(t, "Bye") == "Tạm biệt"


@pytest.mark.parametrize("value", ["xx", "xx_YY.UTF-8", ":::", "  ", "C", "POSIX", "C.UTF-8",
                                   "en_US.UTF-8", "../../etc", "vi/../x", "/tmp", "vi_VN/../..",
                                   "vi_" + "x" * 300])
def test_odd_language_values_are_english_never_a_crash(env, value, tmp_path):
    """Unknown codes are English; so is anything that is not a language code,
    such as a path: it never names a folder to read catalogues, READMEs or
    per-node files from."""
    msg = "complete step '{step}' first"
    for choose in (lambda v: env.setenv("V6LAB_LANG", v), i18n.set_language):
        choose(value)
        assert i18n._(msg) == msg and i18n.language() == "en", value
        assert find_lab("link-local").readme.name == "README.md"
    assert i18n.normalize("vi@latin") == ["vi"] and i18n.normalize("vi_VN.UTF-8@x") == ["vi_VN", "vi"]
    i18n.set_language("vi\0")  # no environment variable can hold it, --lang could
    assert i18n._(msg) == msg


def test_language_selection_order(env):
    """set_language() > V6LAB_LANG > LANGUAGE > LC_ALL > LC_MESSAGES > LANG."""
    msg = "complete step '{step}' first"
    vi = "hãy hoàn thành bước '{step}' trước"
    assert i18n.language() == "en" and i18n._(msg) == msg
    env.setenv("LANG", "vi_VN.UTF-8")
    assert i18n.preferences() == ("vi_VN", "vi") and i18n._(msg) == vi
    env.setenv("LC_MESSAGES", "C")
    assert i18n._(msg) == msg                      # LC_MESSAGES comes before LANG
    env.setenv("LC_ALL", "vi_VN.UTF-8")
    assert i18n._(msg) == vi
    env.setenv("LANGUAGE", "en")
    assert i18n._(msg) == msg
    env.setenv("LANGUAGE", "fr:vi")                # fr is not shipped: the next one
    assert i18n._(msg) == vi and i18n.language() == "vi"
    env.setenv("LANGUAGE", "en:vi")                # English first: English
    assert i18n._(msg) == msg
    env.setenv("V6LAB_LANG", "vi")
    assert i18n._(msg) == vi                       # above the locale
    env.setenv("V6LAB_LANG", "xx")
    assert i18n._(msg) == msg                      # unknown: English, not the locale's
    assert i18n.set_language("vi") is None
    assert i18n._(msg) == vi                       # the explicit choice wins
    with i18n.using("en"):
        assert i18n._(msg) == msg
    assert i18n._(msg) == vi
    i18n.set_language(None)
    assert i18n._(msg) == msg                      # back to V6LAB_LANG=xx


def test_normalize_and_available_languages():
    assert i18n.normalize("vi_VN.UTF-8") == ["vi_VN", "vi"]
    assert i18n.normalize("pt-br") == ["pt_BR", "pt"]
    assert i18n.normalize("VI") == ["vi"] and i18n.normalize("C") == ["en"]
    assert i18n.normalize("") == []
    assert i18n.available_languages() == ["en", "vi"]


def test_join_and_and_plural(env):
    assert i18n.join_and(["tentative"]) == "tentative"
    assert i18n.join_and(["tentative", "dadfailed"]) == "tentative and dadfailed"
    assert i18n.ngettext("{n} step", "{n} steps", 2) == "{n} steps"
    env.setenv("V6LAB_LANG", "vi")
    assert i18n.join_and(["tentative", "dadfailed"]) == "tentative và dadfailed"
    assert i18n.ngettext("{n} step", "{n} steps", 1) == "{n} step"   # no catalogue entry


# ---------------------------------------------------------------- labs

def test_curriculum_labs_have_both_languages(env):
    assert SHIPPED == ("vi",) and {"link-local", "static-gua", "slaac"} <= set(CURRICULUM)
    for lab_id in CURRICULUM:
        d = find_lab(lab_id)
        assert d.languages == ["en", *SHIPPED], lab_id
        assert d.readme.name == "README.md"
        env.setenv("V6LAB_LANG", "vi")
        assert d.readme.name == "README.vi.md" and d.instructions()
        env.setenv("V6LAB_LANG", "xx")
        assert d.readme.name == "README.md"
        env.delenv("V6LAB_LANG")
    demo = load_lab(ROOT / "tests" / "toolkit" / "labs" / "toolkit-demo")
    assert demo.languages == ["en"]


@pytest.mark.parametrize("lab_id", CURRICULUM)
def test_readme_vi_matches_the_english_one(lab_id):
    """Same ${variables}, same sections, and every inline command, address
    and file name of README.md also in README.vi.md; code blocks differ only
    in their comments."""
    en = (LABS / lab_id / "README.md").read_text(encoding="utf-8")
    vi = (LABS / lab_id / "README.vi.md").read_text(encoding="utf-8")
    assert set(LAB_VARS.findall(en)) == set(LAB_VARS.findall(vi))
    assert en.count("\n## ") == vi.count("\n## ") and vi.startswith("# ")

    def blocks(text: str) -> list[str]:
        return [re.sub(r"\s+#.*", "", b) for b in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)]

    assert blocks(en) == blocks(vi)
    def spans(text: str) -> set[str]:  # `inline code`, which may run over a line break
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        return {" ".join(x.split()) for x in re.findall(r"`([^`]+)`", text)}

    assert spans(en) <= spans(vi), spans(en) - spans(vi)
    d = find_lab(lab_id)
    render(vi, d.vars, "README.vi.md")  # every variable known


def test_lab_text_follows_the_language_it_is_loaded_in(env):
    """Titles, summaries and mistakes are translated when the lab is loaded;
    loading again in another language gives that language, and the module's
    English is untouched."""
    en = find_lab("slaac")
    env.setenv("V6LAB_LANG", "vi")
    vi = find_lab("slaac")
    assert en.title == "SLAAC with router advertisements"
    assert vi.title == "SLAAC với quảng bá bộ định tuyến"
    assert "2001:db8:10::/64" in vi.summary and "${" not in vi.summary
    assert [m.description for m in vi.mistakes] != [m.description for m in en.mistakes]
    assert vi.mistakes[0].description == "để chuyển tiếp tắt trên r1"
    env.delenv("V6LAB_LANG")
    assert find_lab("slaac").mistakes[0].description == "leaves forwarding off on r1"


def test_per_node_files_have_translations(env, tmp_path):
    """locale/<lang>/nodes/<node>/<path> replaces nodes/<node>/<path> in that
    language; a translation of a file nodes/ does not have is an error
    naming it."""
    folder = small_lab(tmp_path / "small", SMALL_PO, nodes={
        "nodes/h1/root/q.txt.tmpl": "Question about ${who}\n",
        "locale/vi/nodes/h1/root/q.txt.tmpl": "Câu hỏi về ${who}\n"})
    d = load_lab(folder)
    d.validate()
    assert d.node_files() == [("h1", "/root/q.txt", "Question about h1\n", 0o644)]
    env.setenv("V6LAB_LANG", "vi")
    assert d.node_files()[0][2] == "Câu hỏi về h1\n"
    stray = folder / "locale" / "vi" / "nodes" / "h1" / "root" / "other.txt"
    stray.write_text("x")
    from v6lab import SpecError
    with pytest.raises(SpecError, match="other.txt: translates no file"):
        d.validate()
    stray.unlink()
    (folder / "locale" / "vi" / "nodes" / "h1" / "root" / "q.txt.tmpl").write_text("${nobody}")
    with pytest.raises(SpecError, match="unknown variable"):
        d.validate()


def test_link_local_question_is_translated(env):
    d = find_lab("link-local")
    assert d.node_files()[0][2].startswith("Lab 1, step 4")
    env.setenv("LANG", "vi_VN.UTF-8")
    assert d.node_files()[0][2].startswith("Bài 1, bước 4")


# ---------------------------------------------------------------- reports

def vietnamese_report():
    """A report of the slaac lab as a fresh lab would get it, built without a
    lab: every step skipped but the first, which fails."""
    from v6lab.grading import Report, StepResult
    d = find_lab("slaac")
    g = d.grader()
    steps = [StepResult.skipped(s, i18n._("complete step '{step}' first").format(step="forwarding"))
             for s in g.steps]
    steps[0].status, steps[0].message = "fail", "r1: net.ipv6.conf.all.forwarding đang là 0, cần là 1"
    steps[0].hint = g.steps[0].hints[0]
    for c in steps[0].checks:
        c.status = "fail"
    return Report("slaac", "slaac", "2025-01-01T00:00:00", 0.012, steps)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_rich_tables_align_with_vietnamese(env, width):
    """Every line of the checklist `v6lab check` prints is as wide as the
    table, and the points column ends at the same place on every row, with
    Vietnamese titles (wrapped or not) at several terminal widths."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    env.setenv("V6LAB_LANG", "vi")
    report = vietnamese_report()
    con = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    report.render(con)
    lines = con.file.getvalue().splitlines()
    table = lines[:lines.index(next(x for x in lines if x.startswith("Điểm:")))]
    assert "bước" in table[0] and "điểm" in table[0]
    assert len({cell_len(x) for x in table}) == 1, table
    # One code point per column: a terminal counting characters agrees.
    assert all(len(x) == cell_len(x) for x in table)
    ends = [cell_len(x.rstrip()) for x in table if re.search(r"\d+/\d+\s*$", x)]
    assert len(ends) == len(report.steps) and len(set(ends)) == 1, table
    # A boxed table: every column border at the same place on every line.
    t = Table("bước", "mô tả", "điểm", title=None)
    for s in report.steps:
        t.add_row(s.id, s.title, f"{s.earned:g}/{s.possible:g}")
    con = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    con.print(t)
    rows = [x for x in con.file.getvalue().splitlines() if x.startswith("│")]
    borders = {tuple(i for i, ch in enumerate(x) if ch == "│") for x in rows}
    assert len(borders) == 1, rows
    assert "Hint:" not in con.file.getvalue()


def test_report_human_fields_translated_machine_fields_not(env):
    """JSON, JUnit and TAP: ids, statuses and keys stay English; titles,
    descriptions, messages, hints and notes are in the trainee's language."""
    import json
    env.setenv("V6LAB_LANG", "vi")
    report = vietnamese_report()
    report.self_graded = True
    data = json.loads(report.to_json())
    assert data["schema"] == "v6lab-report/1"
    assert [s["status"] for s in data["steps"]] == ["fail", "skipped", "skipped", "skipped"]
    assert [s["id"] for s in data["steps"]] == ["forwarding", "radvd", "slaac", "reach-srv"]
    assert data["steps"][0]["title"] == "Bật chuyển tiếp IPv6 trên r1"
    assert data["steps"][1]["message"] == "hãy hoàn thành bước 'forwarding' trước"
    assert data["steps"][0]["checks"][0]["description"] == "r1: net.ipv6.conf.all.forwarding = 1"
    assert "gợi ý: Bộ định tuyến chuyển tiếp" in report.to_junit()
    tap = report.to_tap()
    assert "  status: fail" in tap and "# tự đánh giá:" in tap
    env.setenv("V6LAB_LANG", "en")
    assert report.self_graded_note() == report.SELF_GRADED_NOTE


# ---------------------------------------------------------- scripts/i18n

def i18n_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_a_lab_outside_the_curriculum_gets_a_language(env, tmp_path):
    """What docs/translating.md tells a lab author: add the language, fill
    in the .po, compile it (the build compiles only labs/), and the lab
    speaks it; status says when a catalogue is incomplete, update brings in
    a new message."""
    import shutil
    lab = tmp_path / "toolkit-demo"
    shutil.copytree(ROOT / "tests" / "toolkit" / "labs" / "toolkit-demo", lab)
    r = i18n_script("add", "vi", str(lab))
    assert r.returncode == 0 and "created" in r.stdout, r.stderr
    po = lab / "locale" / "vi" / "LC_MESSAGES" / "toolkit-demo.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgid "Connect to ${isp_name}"' in text and '"Language: vi\\n"' in text
    r = i18n_script("status", str(lab))
    assert r.returncode == 1 and "untranslated" in r.stdout
    po.write_text(text.replace('msgid "Connect to ${isp_name}"\nmsgstr ""',
                               'msgid "Connect to ${isp_name}"\nmsgstr "Kết nối tới ${isp_name}"'),
                  encoding="utf-8")
    r = i18n_script("compile", str(lab))
    assert r.returncode == 0, r.stderr
    env.setenv("V6LAB_LANG", "vi")
    d = load_lab(lab)
    assert d.title == "Kết nối tới DemoNet" and d.languages == ["en", "vi"]
    assert d.grader().steps[0].title == "Accept the ISP's Router Advertisements on the WAN"
    # A new message in the sources: update adds it, untranslated, and keeps
    # the translation made.
    src = lab / "lab.py"
    src.write_text(src.read_text().replace('hints=[_("The address follows',
                                           'hints=[_("A new hint."), _("The address follows'))
    assert i18n_script("update", str(lab)).returncode == 0
    entries = {e["msgid"]: e["msgstr"][0] for e in parse_po(po.read_text(encoding="utf-8"))}
    assert entries["A new hint."] == "" and entries["Connect to ${isp_name}"] == "Kết nối tới ${isp_name}"
    # A broken catalogue is refused with the file and line named.
    po.write_text(po.read_text(encoding="utf-8").replace("Kết nối tới ${isp_name}", "Kết nối tới ${isp}"),
                  encoding="utf-8")
    r = i18n_script("compile", str(lab))
    assert r.returncode != 0 and "toolkit-demo.po:" in r.stderr


def test_update_changes_nothing_when_the_sources_did_not(tmp_path):
    """scripts/i18n update on the shipped catalogues is a no-op: they are
    current, and the template has no date to churn."""
    import shutil
    for folder in domains():
        copy = tmp_path / folder.name
        shutil.copytree(folder / "locale", copy / "locale")
        for f in folder.glob("*.py"):
            shutil.copy(f, copy)
        if folder == CORE:
            continue  # the core's sources span packages: checked in place below
        assert i18n_script("update", str(copy)).returncode == 0
        for po in (copy / "locale").rglob("*.po"):
            assert po.read_bytes() == (folder / po.relative_to(copy)).read_bytes(), po
    r = subprocess.run([str(SCRIPT), "pot"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "POT-Creation-Date" not in r.stdout
