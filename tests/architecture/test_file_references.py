"""Docstrings, comments and docs name only files that are in the repository (moved code leaves no stale path)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("core", "hub", "ingest", "validate", "publish", "tests", "bench", "docs", "schemas", "samples", "scripts",
           "deploy")
PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(FOLDERS) + r")/[\w./-]*\w\.(?:py|md|yaml|yml|json|html|toml|csv|sh))")


def _texts() -> list[Path]:
    found = [ROOT / "README.md"]
    for folder in FOLDERS:
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md")
                  and not {"__pycache__", ".venv-peers", "out"} & set(p.parts)]  # not what `make bench` leaves
    return found


def test_every_named_file_exists() -> None:
    missing = []
    for path in (p for p in _texts() if p != Path(__file__).resolve()):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            missing += [f"{path.relative_to(ROOT)}:{number}: {name}" for name in PATH.findall(line)
                        if not (ROOT / name).exists()]
    assert not missing, "\n".join(missing)


def test_the_check_sees_a_stale_path() -> None:
    assert PATH.findall("see hub/pipeline.py and core/text.py.") == ["hub/pipeline.py", "core/text.py"]
