"""The command line in Vietnamese (docs/translating.md, issue 11), chosen
each way a trainee can choose it (--lang vi, V6LAB_LANG=vi,
LANG=vi_VN.UTF-8): the help of the group and of every verb, click's own
words included, is Vietnamese with no English help line left; errors are
Vietnamese with the exit code English gives; `labs` shows each lab's
languages; the tables still line up at 80 columns. English is what it was
before the CLI was translated (a snapshot), and an unknown --lang is English.
No root needed for most; `start` needs root only to reach the lab lookup."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from test_cli_args import CASES, odd_paths  # noqa: F401 - odd_paths is a fixture

PY = "/usr/bin/python3"
SNAPSHOT = Path(__file__).parent / "snapshots" / "cli_help.en.txt"
# Letters only Vietnamese writes (no French, Spanish or German word has them).
VIETNAMESE = re.compile("[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
LOCALE_VARS = ("V6LAB_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

# Prints `--help` of the group and of every verb, as the snapshot holds it.
# To make the snapshot again (only when English help changes on purpose):
#   PYTHONPATH=bindings V6LAB_LANG=en /usr/bin/python3 -c "$HELP_ALL" > tests/python/snapshots/cli_help.en.txt
HELP_ALL = """
import sys
from click.testing import CliRunner
from v6lab.cli import main
pre = sys.argv[1:]
out = []
for argv in [[]] + [[c] for c in sorted(main.commands)]:
    res = CliRunner().invoke(main, pre + argv + ["--help"], terminal_width=80, prog_name="v6lab")
    assert res.exit_code == 0, (argv, res.output)
    out.append(f"==== v6lab {' '.join(argv + ['--help'])}\\n{res.output}")
sys.stdout.write("".join(out))
"""


def environ(**extra: str) -> dict[str, str]:
    """The caller's environment without any language, then extra."""
    env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}
    return {**env, "PYTHONPATH": str(ROOT / "bindings"), "COLUMNS": "80", **extra}


def v6lab(*args: str, env: dict[str, str] | None = None, cwd: str = "/") -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                          env=env if env is not None else environ(), timeout=60, cwd=cwd)


def all_help(*pre: str, env: dict[str, str]) -> dict[str, str]:
    """Every verb's --help (and the group's, key "") in one interpreter."""
    r = subprocess.run([PY, "-c", HELP_ALL, *pre], capture_output=True, text=True, env=env,
                       timeout=120, cwd="/")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    return split_help(r.stdout)


def split_help(text: str) -> dict[str, str]:
    parts = re.split(r"^==== v6lab (.*?)--help\n", text, flags=re.M)[1:]
    return {parts[i].strip(): parts[i + 1] for i in range(0, len(parts), 2)}


# Each way of choosing Vietnamese: (arguments before the verb, environment).
WAYS = {
    "--lang vi": (["--lang", "vi"], {}),
    "V6LAB_LANG=vi": ([], {"V6LAB_LANG": "vi"}),
    "LANG=vi_VN.UTF-8": ([], {"LANG": "vi_VN.UTF-8"}),
}


@pytest.fixture(scope="module")
def english() -> dict[str, str]:
    return all_help(env=environ(V6LAB_LANG="en"))


def test_english_help_is_what_it_was_before_translation(english):
    """Byte for byte the snapshot taken from main before the CLI was
    translated (its only change since: the group's new --lang line)."""
    assert english == split_help(SNAPSHOT.read_text(encoding="utf-8"))
    assert "--lang CODE" in english[""]


def prose(line: str) -> str:
    """The words of a help line, without options, metavariables, commands in
    quotes and [choices]: what a translator translates."""
    line = re.sub(r"'[^']*'|\[[^\]]*\]|\([^)]*\bv6lab\b[^)]*\)", " ", line)
    return " ".join(w for w in line.split()
                    if not w.startswith("-") and not w.isupper() and re.search(r"[a-z]{3}", w))


@pytest.mark.parametrize("way", WAYS)
def test_help_of_every_verb_is_vietnamese(english, way):
    pre, extra = WAYS[way]
    vi = all_help(*pre, env=environ(**extra))
    assert vi.keys() == english.keys()
    for verb, text in vi.items():
        assert VIETNAMESE.search(text), (way, verb, text)
        assert text.startswith("Cách dùng: v6lab") and "\nTùy chọn:\n" in text, (way, verb, text)
        assert "Hiện trợ giúp này rồi thoát." in text, (way, verb)
        # No line of English help left: a line with prose that English has too.
        same = {line for line in set(text.splitlines()) & set(english[verb].splitlines())
                if len(prose(line).split()) >= 2}
        assert not same, (way, verb, same)
    assert "\nLệnh:\n" in vi[""] and "Chấm bài thực hành đang chạy" in vi[""]


@pytest.mark.parametrize("code", ["xx", "en", "../../etc", "C", ""])
def test_an_unknown_language_is_english(english, code):
    r = v6lab("--lang", code, "labs", "--help")
    assert r.returncode == 0 and r.stdout == english["labs"], r.stderr
    r = v6lab("--lang", code, "labs", "--format", "xml")
    assert r.returncode == 2 and "Error: Invalid value for '--format'" in r.stderr


def test_lang_reaches_child_processes_and_click():
    """--lang sets V6LAB_LANG for the processes v6lab starts (a lab's
    supervisor) and LANGUAGE for click; it beats V6LAB_LANG and the locale;
    nothing of it stays in a process that ran the command (CliRunner)."""
    script = """
import os, click
from click.testing import CliRunner
from v6lab import i18n
from v6lab.cli import main
@main.command("probe")
def probe():
    click.echo(f"{os.environ.get('V6LAB_LANG')} {os.environ.get('LANGUAGE')} {i18n.language()}")
r = CliRunner().invoke(main, ["--lang", "vi", "probe"])
print(r.output.strip())
r = CliRunner().invoke(main, ["probe"])
print(r.output.strip())
print(os.environ.get("V6LAB_LANG"), os.environ.get("LANGUAGE"), i18n.language())
"""
    r = subprocess.run([PY, "-c", script], capture_output=True, text=True, timeout=60,
                       env=environ(V6LAB_LANG="en", LANG="vi_VN.UTF-8"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["vi vi vi", "en en en", "en None en"]


@pytest.mark.parametrize("way", WAYS)
def test_errors_are_vietnamese_with_the_same_exit_code(way):
    pre, extra = WAYS[way]
    env = environ(**extra)
    r = v6lab(*pre, "check", "--format", "xml", env=env)
    assert r.returncode == 2
    assert "Lỗi: Giá trị không hợp lệ cho '--format': 'xml' không hợp lệ" in r.stderr, r.stderr
    assert "Hãy chạy 'v6lab check -h' để xem trợ giúp." in r.stderr
    r = v6lab(*pre, "frobnicate", env=env)
    assert r.returncode == 2 and "Lỗi: Không có lệnh 'frobnicate'." in r.stderr, r.stderr
    r = v6lab(*pre, "capture", "h1", env=env)
    assert r.returncode == 2 and "Lỗi: Thiếu đối số 'IFACE'." in r.stderr, r.stderr
    r = v6lab(*pre, "start", "no-such-lab", env=env)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("v6lab: không có bài thực hành nào tên 'no-such-lab'"), r.stderr
    r = v6lab(*pre, "hint", "--lab", "v6lab-no-such-lab", env=env)
    assert r.returncode == 1 and r.stderr.startswith("v6lab: không có bài thực hành nào"), r.stderr


def test_the_group_options_are_read_in_the_language_given_first():
    r = v6lab("--lang", "vi", "--bogus")
    assert r.returncode == 2 and "Lỗi: Không có tùy chọn: --bogus" in r.stderr, r.stderr
    r = v6lab("--lang=vi", "--version")
    assert r.returncode == 0 and r.stdout == "v6lab, phiên bản 0.1.0\n"
    assert v6lab("--version").stdout == "v6lab, version 0.1.0\n"


def test_every_bad_command_line_keeps_its_exit_code_in_vietnamese(odd_paths):  # noqa: F811
    """The cases of test_cli_args.py, in Vietnamese: the same exit codes;
    a usage error or a failure is said in Vietnamese (an invalid topology is
    the file's diagnostic, which stays English)."""
    for args, codes in CASES:
        argv = [a.format(**odd_paths) if a.startswith("{") else a for a in args]
        r = v6lab("--lang", "vi", *argv)
        assert r.returncode in codes and "Traceback" not in r.stderr, (args[:3], r.stderr)
        if r.returncode in (1, 2):
            assert VIETNAMESE.search(r.stderr), (args[:3], r.stderr)


# ---------------------------------------------------------------- labs

def labs_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A progress file of its own, and the toolkit's labs beside the
    curriculum (toolkit-demo is English only)."""
    return environ(V6LAB_PROGRESS=str(tmp_path / "progress.json"),
                   V6LAB_LABS=str(ROOT / "tests" / "toolkit" / "labs"), **extra)


def test_labs_lists_languages(tmp_path):
    r = v6lab("labs", "--format", "json", env=labs_env(tmp_path, V6LAB_LANG="en"))
    assert r.returncode == 0, r.stderr
    langs = {x["id"]: x["languages"] for x in json.loads(r.stdout) if "id" in x}
    assert langs["link-local"] == langs["slaac"] == langs["static-gua"] == ["en", "vi"]
    assert langs["toolkit-demo"] == ["en"]
    r = v6lab("labs", env=labs_env(tmp_path, V6LAB_LANG="en"))
    both = sum(1 for v in langs.values() if v == ["en", "vi"])
    plain = re.sub(r" +\n", "\n", r.stdout)
    assert plain.count(" min · en vi\n") == both and " min · en\n" in plain, r.stdout
    assert "en vi: the languages each lab speaks (choose one with --lang)" in r.stdout
    # The curriculum's numbers (README.md's table), gaps included, not the rows'.
    numbers = {x["id"]: x["number"] for x in json.loads(
        v6lab("labs", "--format", "json", env=labs_env(tmp_path, V6LAB_LANG="en")).stdout)
        if "id" in x}
    assert numbers["link-local"] == 1 and numbers["prefix-delegation"] == 7
    assert numbers["dual-stack-services"] == 11 and numbers["nat64"] == 12, numbers
    for lab in ("link-local", "prefix-delegation", "dual-stack-services", "nat64"):
        assert re.search(rf"^\s*{numbers[lab]}\s+{lab}\s", r.stdout, re.M), (lab, r.stdout)
    r = v6lab("--lang", "vi", "labs", "--format", "json", env=labs_env(tmp_path))
    data = {x["id"]: x for x in json.loads(r.stdout) if "id" in x}
    # Machine fields stay English; the title is the trainee's language.
    assert data["slaac"]["status"] == "not started" and data["slaac"]["level"] == "beginner"
    assert data["slaac"]["title"] == "SLAAC với quảng bá bộ định tuyến"
    assert data["slaac"]["languages"] == ["en", "vi"]


def cells(line: str) -> int:
    from rich.cells import cell_len
    return cell_len(line)


@pytest.mark.parametrize("way", WAYS)
def test_labs_table_fits_80_columns_in_vietnamese(tmp_path, way):
    """Ids never cut, every line within 80 columns, each lab within three
    lines, and the status column starts at the same place on every row."""
    pre, extra = WAYS[way]
    r = v6lab(*pre, "labs", env=labs_env(tmp_path, **extra))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(cells(x) for x in lines) <= 80
    assert lines[0].split()[:3] == ["#", "bài", "tiêu"] and "trạng thái" in lines[0]
    for lab in ("link-local", "static-gua", "slaac", "toolkit-demo"):
        assert re.search(rf"\s{re.escape(lab)}\s", r.stdout), (lab, r.stdout)
    # A row's first line has its status (every lab is not started here);
    # its number may be blank (a lab with no place in the curriculum).
    rows = [i for i, x in enumerate(lines) if "chưa bắt đầu" in x]
    assert len(rows) >= 4, r.stdout
    legend = next(i for i, x in enumerate(lines) if x.startswith("en vi: "))
    assert "các ngôn ngữ của từng bài" in lines[legend]
    for a, b in zip(rows, rows[1:] + [legend]):
        assert b - a <= 3, "\n".join(lines[a:b])
        assert " phút · en" in " ".join(lines[a:b])
    starts = {cells(lines[i][:lines[i].index("chưa bắt đầu")]) for i in rows}
    assert len(starts) == 1 and cells(lines[0][:lines[0].index("trạng thái")]) in starts, r.stdout


def boxed_rows_align(text: str) -> bool:
    """Every row of a boxed rich table has its borders at the same columns."""
    rows = [x for x in text.splitlines() if x.startswith(("│", "┃"))]
    borders = {tuple(i for i, ch in enumerate(x) if ch in "│┃") for x in rows}
    return bool(rows) and len(borders) == 1 and all(len(x) == cells(x) for x in rows)


def test_progress_and_doctor_tables_align_in_vietnamese(tmp_path):
    env = labs_env(tmp_path, V6LAB_LANG="vi")
    r = v6lab("progress", env=env)
    assert r.returncode == 0, r.stderr
    # Headings may wrap to their words when the ids are long: word by word.
    assert {"lần", "làm", "gợi", "ý"} <= set(r.stdout.split()) and "chưa bắt đầu" in r.stdout
    assert "(lưu tại " in r.stdout
    assert boxed_rows_align(r.stdout), r.stdout
    assert max(cells(x) for x in r.stdout.splitlines()[:-1]) <= 80  # the last: a path
    r = v6lab("doctor", env=env)
    assert r.returncode in (0, 8), r.stderr
    assert "cách khắc phục" in r.stdout and "chế độ" in r.stdout, r.stdout
    assert boxed_rows_align(r.stdout), r.stdout
    assert max(cells(x) for x in r.stdout.splitlines()) <= 80
    r = v6lab("doctor", "--format", "json", env=env)
    found = json.loads(r.stdout)
    # Names and statuses are machine fields: English whatever the language.
    assert found[0]["name"] == "mode" and {f["status"] for f in found} <= {"ok", "limited", "missing"}
    assert VIETNAMESE.search(found[0]["found"])


def test_a_running_lab_in_vietnamese(v6lab_available, tmp_path):
    """up, inspect, status and stop of a real lab in Vietnamese: the address
    table's headings wrap rather than cut an address at 80 columns, its
    borders line up, and no address is lost."""
    name = f"vi{os.getpid()}"
    env = environ(V6LAB_LANG="vi", V6LAB_PROGRESS=str(tmp_path / "p.json"))
    r = v6lab("up", str(ROOT / "examples" / "small.yaml"), "--name", name, env=env)
    assert r.returncode == 0, r.stderr
    try:
        assert r.stdout.startswith(f"bài thực hành {name} đã chạy (id ") and "mở shell bằng:" in r.stdout
        r = v6lab("inspect", "--lab", name, env=env)
        assert r.returncode == 0, r.stderr
        assert "giao" in r.stdout and "địa chỉ" in r.stdout and "…" not in r.stdout, r.stdout
        assert boxed_rows_align(r.stdout) and max(cells(x) for x in r.stdout.splitlines()) <= 80
        data = json.loads(v6lab("inspect", "--lab", name, "--format", "json", env=env).stdout)
        for node in data["nodes"].values():
            for iface in node["interfaces"].values():
                for a in iface["addresses"]:
                    assert a["address"] in r.stdout, (a, r.stdout)
        r = v6lab("status", env=env)
        assert r.returncode == 0 and "tên" in r.stdout and boxed_rows_align(r.stdout), r.stdout
        r = v6lab("hint", "--lab", name, env=env)
        assert r.returncode == 1 and "không phải từ chương trình học" in r.stderr, r.stderr
    finally:
        r = v6lab("stop", "--lab", name, env=env)
    assert r.returncode == 0 and r.stdout.startswith(f"đã dừng bài thực hành {name} ("), r.stdout


def test_the_vietnamese_trainee_guide_matches_the_english_one():
    """Same sections, every command block as in the English (comments
    included: they are what a trainee copies), NFC text."""
    import unicodedata
    en = (ROOT / "docs" / "trainee-guide.md").read_text(encoding="utf-8")
    vi = (ROOT / "docs" / "trainee-guide.vi.md").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", vi) and VIETNAMESE.search(vi)
    assert en.count("\n## ") == vi.count("\n## ") and en.count("\n### ") == vi.count("\n### ")
    blocks = re.compile(r"```sh\n(.*?)```", re.S)
    assert blocks.findall(en) == blocks.findall(vi)
    assert "trainee-guide.vi.md" in en
