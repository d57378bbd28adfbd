"""The documented ways of unit-testing checks, run as written, so the
instructions an instructor follows cannot go stale: docs/grading.md's
worked example (the custom check `rejected_by` from "Writing a custom
check" becomes my_checks.py, the test block test_my_checks.py, and pytest
runs them), and docs/writing-labs.md's FakeLab.from_lab snippet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_the_documented_unit_test_of_a_custom_check_passes(tmp_path):
    doc = (ROOT / "docs" / "grading.md").read_text()
    custom = python_blocks(section(doc, "Writing a custom check"))
    checks = "\n\n".join(b for b in custom if "def rejected_by(" in b or "import" in b)
    assert "def rejected_by(" in checks
    example = python_blocks(section(doc, "Unit-testing a check without a lab"))[0]
    assert "from my_checks import rejected_by" in example
    (tmp_path / "my_checks.py").write_text(checks)
    (tmp_path / "test_my_checks.py").write_text(example)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "test_my_checks.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
                                         "PYTHONDONTWRITEBYTECODE": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 passed" in r.stdout, r.stdout


def test_the_documented_fake_of_a_curriculum_lab_runs():
    doc = (ROOT / "docs" / "writing-labs.md").read_text()
    block = next(b for b in python_blocks(section(doc, "Testing a lab")) if "FakeLab.from_lab" in b)
    r = subprocess.run([sys.executable, "-c", block], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
                                        "PYTHONDONTWRITEBYTECODE": "1"})
    assert r.returncode == 0, r.stderr
