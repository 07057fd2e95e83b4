"""The production shape on one machine, for tests: `hub worker`, gunicorn (`hub serve`) and Debian's nginx,
all on 127.0.0.1, each a real process with its logs in a temporary folder, all stopped by `close()`."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from core.config import Settings
from hub.deploy import nginx_site
from tests.conftest import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_MAIN = """# test-local nginx: runs as the current user, everything under {tmp}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/nginx-tmp/body;
    proxy_temp_path {tmp}/nginx-tmp/proxy;
    fastcgi_temp_path {tmp}/nginx-tmp/fastcgi;
    uwsgi_temp_path {tmp}/nginx-tmp/uwsgi;
    scgi_temp_path {tmp}/nginx-tmp/scgi;
    access_log {tmp}/nginx-access.log;
    include {tmp}/site.conf;
}}
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def render_nginx(settings: Settings, tmp: Path, *, port: int, http_port: int, static_dir: Path, tls: bool = True) -> Path:
    """deploy/nginx/hub.conf rendered for this test, inside a test-local main nginx.conf."""
    (tmp / "nginx-tmp").mkdir(exist_ok=True)
    extra = {}
    if tls:
        cert, key = self_signed_certificate(tmp)
        extra = {"certificate": str(cert), "certificate_key": str(key)}
    site = nginx_site(settings, server_name="127.0.0.1", listen=f"127.0.0.1:{port}", listen_http=f"127.0.0.1:{http_port}",
                      tls=tls, static_dir=static_dir, log_dir=str(tmp), **extra)
    (tmp / "site.conf").write_text(site, encoding="utf-8")
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""  # as root, workers would become nobody
    main = tmp / "nginx.conf"
    main.write_text(NGINX_MAIN.format(tmp=tmp, user=user), encoding="utf-8")
    return main


class Stack:
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env = tmp, env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[object] = []

    def start(self, name: str, argv: list[str], **kw: object) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        self._logs.append(log)
        proc = subprocess.Popen(argv, env=self.env, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, **kw)  # type: ignore[call-overload]
        self.processes[name] = proc
        return proc

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self.start(name, [sys.executable, "-m", "hub", "worker"])

    def start_web(self) -> subprocess.Popen[bytes]:
        return self.start("web", [sys.executable, "-m", "hub", "serve"])

    def start_nginx(self, conf: Path) -> subprocess.Popen[bytes]:
        return self.start("nginx", [NGINX, "-c", str(conf), "-p", str(self.tmp), "-e", str(self.tmp / "nginx-error.log"),
                                    "-g", "daemon off;"])

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def wait_until_ready(self, url: str, verify: str | bool, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited ({proc.returncode}):\n{self.log(name)[-3000:]}")
            try:
                last = requests.get(url, verify=verify, timeout=5)
                if last.status_code == 200:
                    return
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.5)
        raise AssertionError(f"not ready after {timeout}s: {last}\n{self.log('web')[-3000:]}")

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        proc = self.processes.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the group is only what it started
            proc.wait(timeout=10)

    def close(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        for log in self._logs:
            log.close()  # type: ignore[attr-defined]


def free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
