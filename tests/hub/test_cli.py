"""The `hub` command as a user runs it: one clear line and a non-zero status on bad input, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

HUB = [sys.executable, "-m", "hub"]


def run_hub(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HUB_CATALOG_PATH": str(PROJECT_ROOT / "catalog.yaml"), **(env or {})}
    return subprocess.run([*HUB, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_unknown_dataset_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    result = run_hub("ingest", "no-such-dataset", "x.csv", cwd=tmp_path)
    assert_one_clear_line(result, "no-such-dataset", "Không có bộ dữ liệu")


def test_missing_file_is_named(tmp_path: Path) -> None:
    result = run_hub("ingest", "heritage-sites", "missing.csv", cwd=tmp_path)
    assert_one_clear_line(result, "missing.csv", "File not found")
    assert result.returncode == 5


def test_database_that_does_not_connect_is_one_line(tmp_path: Path) -> None:
    result = run_hub("datasets", cwd=tmp_path,
                     env={"HUB_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert_one_clear_line(result, "Cannot connect to the database")
    assert result.returncode == 4


def test_broken_catalog_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "catalog.yaml"
    broken.write_text("datasets:\n  - id: x\n    title: [unclosed\n")
    result = run_hub("datasets", cwd=tmp_path, env={"HUB_CATALOG_PATH": str(broken)})
    assert_one_clear_line(result, str(broken))
    assert result.returncode == 3


def test_schema_with_a_mistake_names_the_schema(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "catalog.yaml").read_text(encoding="utf-8")
    (tmp_path / "schemas").mkdir()
    for schema in (PROJECT_ROOT / "schemas").glob("*.json"):
        (tmp_path / "schemas" / schema.name).write_text(schema.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "schemas" / "heritage-sites.json").write_text('{"fields": [', encoding="utf-8")
    (tmp_path / "catalog.yaml").write_text(text, encoding="utf-8")
    result = run_hub("datasets", cwd=tmp_path, env={"HUB_CATALOG_PATH": str(tmp_path / "catalog.yaml")})
    assert_one_clear_line(result, "heritage-sites.json")


def test_bad_setting_is_reported(tmp_path: Path) -> None:
    result = run_hub("datasets", cwd=tmp_path, env={"HUB_LANGUAGE": "fr"})
    assert_one_clear_line(result, "HUB_LANGUAGE")


@pytest.mark.parametrize("command", ["init", "ingest", "validate", "datasets", "serve"])
def test_every_command_has_help(command: str, tmp_path: Path) -> None:
    result = run_hub(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_readme_lists_the_exit_status_each_error_class_carries() -> None:
    """README's list of exit statuses is the one the `hub` command uses: each error class's `exit_code`."""
    import re

    from core import errors

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"the exit status says what went\nwrong \(([^)]*)\)", readme)
    assert listed, "README's exit status sentence moved"
    documented = {int(code) for code in re.findall(r"(?:^|[,;] )(\d+) ", listed.group(1).replace("\n", " "))}
    carried = {cls.exit_code for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.HubError)}
    assert carried | {2} == documented  # 2 is click's own: a wrong command line
