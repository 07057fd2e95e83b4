"""Production configuration as the operator meets it: `hub check-config`, and refusals at start."""

from __future__ import annotations

from pathlib import Path

from core.config import PROJECT_ROOT, SETTINGS_HELP, Settings, read_env
from tests.ops.conftest import hub_env, run_hub


def test_default_secret_refused_when_base_url_is_public() -> None:
    reading = read_env(environ={"HUB_BASE_URL": "https://dulieu.dongnai.gov.vn"})
    assert any("HUB_SECRET_KEY" in en for _, en in reading.problems)
    assert not read_env(environ={"HUB_BASE_URL": "https://dulieu.dongnai.gov.vn",
                                 "HUB_SECRET_KEY": "3f9c2b7e8d1a4c6f9e0b2d4a6c8e0f1a"}).problems


def test_default_secret_is_fine_on_this_machine() -> None:
    assert not read_env(environ={"HUB_BASE_URL": "http://localhost:8080"}).problems
    assert not Settings().problems()


def test_every_mistake_is_collected_with_its_variable() -> None:
    reading = read_env(environ={"HUB_WORKERS": "two", "HUB_LOG_FORMAT": "xml", "HUB_BIND": "localhost"})
    text = " | ".join(en for _, en in reading.problems)
    for variable in ("HUB_WORKERS", "HUB_LOG_FORMAT", "HUB_BIND"):
        assert variable in text
    assert reading.sources["workers"] == "environment: HUB_WORKERS" and reading.sources["threads"] == "default"


def test_check_config_masks_secrets_and_names_sources(tmp_path: Path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage",
                  secret_key="do-not-print-this-secret", replica_url="postgresql+psycopg://reader:pa55word@127.0.0.1:1/x")
    result = run_hub("check-config", env=env, cwd=tmp_path)
    out = result.stdout
    assert "do-not-print-this-secret" not in out and "pa55word" not in out
    assert "reader:****@127.0.0.1" in out
    assert "environment: HUB_SECRET_KEY" in out and "(default)" in out
    for name in SETTINGS_HELP:
        assert f"  {name} " in out
    assert result.returncode == 3  # the replica does not answer
    assert "✗ replica: error" in out


def test_check_config_passes_on_a_good_embedded_setup(tmp_path: Path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage")
    assert run_hub("migrate", env=env, cwd=tmp_path).returncode == 0
    result = run_hub("check-config", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "✓ database: ok" in result.stdout and "✓ storage: ok" in result.stdout
    assert (tmp_path / "storage" / "uploads").is_dir()


def test_check_config_lists_each_problem_on_its_own_line(tmp_path: Path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage",
                  workers="two", language="fr", base_url="https://dulieu.dongnai.gov.vn")
    result = run_hub("check-config", env=env, cwd=tmp_path)
    assert result.returncode == 3
    problems = [line for line in result.stdout.splitlines() if line.startswith("✗ ")]
    assert len(problems) == 4, result.stdout
    for needle in ("HUB_WORKERS", "HUB_LANGUAGE", "HUB_SECRET_KEY", "run `hub migrate`"):
        assert sum(needle in p for p in problems) == 1, needle


def test_serve_refuses_to_start_with_one_line_per_mistake(tmp_path: Path) -> None:
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", log_format="xml", proxies="-1")
    result = run_hub("serve", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.startswith("Lỗi cấu hình / configuration error") for line in lines), lines
    assert "Traceback" not in result.stderr


def test_readme_lists_every_setting() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name, help_text in SETTINGS_HELP.items():
        assert f"| `HUB_{name.upper()}` |" in readme, name
        assert help_text in readme, name


def test_ready_line_names_the_port_and_workers_of_the_command_line(tmp_path: Path) -> None:
    """`hub serve --port P --workers 1`: gunicorn's "ready on" line says what runs, not HUB_BIND's defaults."""
    import signal
    import subprocess
    import time

    from tests.conftest import free_port
    from tests.ops.conftest import HUB

    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=tmp_path / "storage", log_format="text")
    assert run_hub("migrate", env=env, cwd=tmp_path).returncode == 0
    port = free_port()
    process = subprocess.Popen([*HUB, "serve", "--port", str(port), "--workers", "1"], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        line = ""
        assert process.stderr is not None
        while "ready on" not in line:
            assert time.monotonic() < deadline and process.poll() is None
            line = process.stderr.readline()
        assert f":{port} (1 workers" in line and ":8080" not in line, line
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
