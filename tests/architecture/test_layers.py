"""The floors are a contract: hub (interfaces) > publish > validate > ingest > core, and no Flask below hub/.

import-linter checks the imports written in the code; the fresh-interpreter test checks what actually gets
imported at run time (a lazy import inside a function counts there too, once the function has run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


def test_the_floors_hold_in_the_code_as_it_is() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_linter_fails_when_publish_imports_an_interface(tmp_path: Path) -> None:
    """The contract can fail: a copy of the tree where publish/ imports hub.context is refused."""
    copy = tmp_path / "tree"
    for name in ("core", "ingest", "validate", "publish", "hub"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "publish" / "versions.py"
    target.write_text(target.read_text(encoding="utf-8") + "\nfrom hub.context import current_hub  # noqa\n",
                      encoding="utf-8")
    done = _lint_imports(copy)
    assert done.returncode != 0
    assert "publish.versions -> hub.context" in done.stdout


@pytest.mark.parametrize("floor", ["core", "ingest", "validate", "publish"])
def test_a_floor_imported_alone_brings_no_flask_and_no_interface(floor: str) -> None:
    script = textwrap.dedent(f"""
        import pkgutil, importlib, sys
        import {floor}
        for info in pkgutil.walk_packages({floor}.__path__, "{floor}."):
            if ".migrations" in info.name:
                continue  # Alembic's env.py runs only under alembic
            importlib.import_module(info.name)
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "flask_restx", "hub", "werkzeug"))
        print(",".join(bad))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{floor} pulled in: {done.stdout.strip()}"
