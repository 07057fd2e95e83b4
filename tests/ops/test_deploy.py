"""The deployment files in deploy/ are valid for the tools that read them (nginx, systemd, gunicorn)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from datetime import timedelta
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings
from tests.ops.conftest import hub_env, run_hub
from tests.ops.stack import NGINX, free_ports, render_nginx

DEPLOY = PROJECT_ROOT / "deploy"


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain"])
def test_rendered_nginx_site_passes_nginx_own_check(tmp_path: Path, tls: bool) -> None:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed")
    static = tmp_path / "static"
    static.mkdir()
    port, http_port = free_ports(2)
    settings = Settings(storage_dir=tmp_path / "storage", base_url="https://dulieu.dongnai.gov.vn", bind="unix:/run/hub/web.sock")
    conf = render_nginx(settings, tmp_path, port=port, http_port=http_port, static_dir=static, tls=tls)
    site = (tmp_path / "site.conf").read_text(encoding="utf-8")
    assert "server unix:/run/hub/web.sock" in site and "client_max_body_size 201m;" in site
    assert ("ssl_protocols TLSv1.2 TLSv1.3;" in site) is tls
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_nginx_config_command_fills_in_this_installation(tmp_path: Path) -> None:
    env = hub_env(base_url="https://dulieu.dongnai.gov.vn", secret_key="0123456789abcdef0123456789abcdef",
                  storage_dir="/var/lib/hub/storage", bind="127.0.0.1:8081")
    result = run_hub("nginx-config", "--certificate", "/etc/hub/tls/cert.pem", "--metrics-allow", "10.20.0.0/24",
                     env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "server_name dulieu.dongnai.gov.vn;" in result.stdout and "server 127.0.0.1:8081" in result.stdout
    assert "alias /var/lib/hub/storage/exports/public/;" in result.stdout
    assert "ssl_certificate     /etc/hub/tls/cert.pem;" in result.stdout
    assert "allow 10.20.0.0/24;" in result.stdout and "{{" not in result.stdout


def test_systemd_units_are_valid(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    venv_hub = Path(shutil.which("hub") or PROJECT_ROOT / ".venv" / "bin" / "hub")
    names = ["hub-web.service", "hub-worker.service", "hub-backup.service", "hub-backup.timer"]
    for name in names:  # the units name /opt/hub/.venv/bin/hub: point them at this checkout's venv
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("/opt/hub/.venv/bin/hub", str(venv_hub)), encoding="utf-8")
    result = subprocess.run([analyze, "verify", *[str(tmp_path / n) for n in names]], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    problems = [line for line in result.stderr.splitlines()
                if line.strip() and "user" not in line.lower()]  # the `hub` user exists only on servers
    assert not problems, result.stderr


def test_gunicorn_configuration_follows_the_settings(tmp_path: Path) -> None:
    """Read in a process of its own, as gunicorn does: the file sets PROMETHEUS_MULTIPROC_DIR and imports
    prometheus_client in multiprocess mode, which would change every later app test of this process."""
    env = hub_env(workers=5, threads=3, bind="unix:/run/hub/web.sock", log_level="WARNING")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    script = ("import json, runpy, sys; c = runpy.run_path(sys.argv[1]); "
              "print(json.dumps({k: c[k] for k in ('workers', 'threads', 'worker_class', 'bind', 'preload_app', "
              "'logconfig_dict', 'logger_class')}))")
    done = subprocess.run([sys.executable, "-c", script, str(DEPLOY / "gunicorn.conf.py")], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads(done.stdout.strip().splitlines()[-1])
    assert config["workers"] == 5 and config["threads"] == 3 and config["worker_class"] == "hub.gthread.ThreadWorker"
    assert config["bind"] == ["unix:/run/hub/web.sock"] and config["preload_app"] is True
    assert config["logconfig_dict"]["root"]["level"] == "WARNING"
    assert config["logger_class"] == "hub.access_log.Logger"
    assert (tmp_path / "metrics").is_dir()


def test_gunicorns_access_log_is_written_only_when_an_operator_sets_one(tmp_path: Path) -> None:
    """The hub logs its own request lines (gunicorn's access log is off, deploy/gunicorn.conf.py); an operator
    who sets `accesslog` still gets gunicorn's lines."""
    from gunicorn.config import Config
    from gunicorn.http.wsgi import Response

    from hub.access_log import Logger

    written = []
    for accesslog in (None, str(tmp_path / "access.log")):
        cfg = Config()
        cfg.set("accesslog", accesslog)
        if accesslog is None:  # a logging configuration given, as ours is (which made gunicorn count its log as on)
            cfg.set("logconfig_dict", {"root": {"level": "INFO", "handlers": []}})
        log = Logger(cfg)
        req = types.SimpleNamespace(method="GET", path="/api/v1/datasets", query="", uri="/api/v1/datasets",
                                    version=(1, 1), headers=[])
        resp = Response(req, None, cfg)
        resp.status = "200 OK"
        log.access(resp, req, {"REMOTE_ADDR": "10.0.0.1", "RAW_URI": "/api/v1/datasets", "REQUEST_METHOD": "GET",
                              "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": ""}, timedelta(milliseconds=3))
        for handler in log.access_log.handlers:
            handler.flush()
        written.append(sorted(p.name for p in tmp_path.iterdir()))
    assert written[0] == []  # no access log of gunicorn's by default
    line = (tmp_path / "access.log").read_text()
    assert "10.0.0.1" in line and '"GET /api/v1/datasets HTTP/1.1" 200 ' in line


def test_the_master_freezes_the_built_app_before_forking(tmp_path: Path) -> None:
    """gunicorn's `when_ready` (the master, the app built, no worker forked yet) moves the objects made so far
    out of garbage collection (hub.app.freeze_startup), so the workers' full collections never scan them."""
    env = hub_env(log_level="WARNING")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    script = ("import gc, runpy, sys, types; c = runpy.run_path(sys.argv[1]); before = gc.get_freeze_count(); "
              "cfg = types.SimpleNamespace(bind=['127.0.0.1:8080'], workers=2, threads=4); "
              "log = types.SimpleNamespace(info=lambda *a: None); "
              "c['when_ready'](types.SimpleNamespace(app=None, cfg=cfg, log=log)); "
              "print(before, gc.get_freeze_count())")
    done = subprocess.run([sys.executable, "-c", script, str(DEPLOY / "gunicorn.conf.py")], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = (int(n) for n in done.stdout.split()[-2:])
    assert before == 0 and after > 10_000  # every module and object the configuration loaded
