"""Telling the dataset's steward that a harvest failed: an e-mail to the dataset's contact (catalog.yaml
`contact.email`) and/or a JSON POST to a webhook. Declared per source: `notify: {email: true, webhook_env:
HUB_...}`; the SMTP server comes from the settings (HUB_SMTP_HOST, _PORT, _TLS, _USER, _PASSWORD, _FROM;
publish/mail.py). A notice that cannot be sent is logged; it never changes the harvest's outcome."""

from __future__ import annotations

import json
import logging
import os
import smtplib
from typing import Any

import requests

from core.catalog import Dataset
from core.config import Settings
from publish import mail

log = logging.getLogger("hub.harvest")


def failed(dataset: Dataset, spec: dict[str, Any], row: dict[str, Any], settings: Settings | None) -> list[str]:
    """Send the failure notices the source asks for; returns where they went."""
    notify = spec.get("notify") or {}
    sent: list[str] = []
    subject = f"[Cổng dữ liệu] Thu thập «{dataset.id}» thất bại / Harvest of «{dataset.id}» failed"
    body = (f"{row.get('error_vi') or ''}\n\n{row.get('error_en') or ''}\n\n"
            f"Nguồn / Source: {row.get('source_url')}\nLần / Attempt: {row.get('id')} ({row.get('started_at')})\n"
            "Phiên bản đang phục vụ không đổi. / The served version is unchanged.\n")
    to = (dataset.entry.get("contact") or {}).get("email")
    if notify.get("email") and to and settings is not None and settings.smtp_host:
        try:
            mail.send(settings, to, subject, body)
            sent.append(f"mailto:{to}")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("harvest %s: failure e-mail not sent: %s", dataset.id, exc)
    url = os.environ.get(notify["webhook_env"]) if notify.get("webhook_env") else None
    if url:
        payload = {"dataset": dataset.id, "status": "failed", "attempt": row.get("id"),
                   "source": row.get("source_url"), "error": {"vi": row.get("error_vi"), "en": row.get("error_en")}}
        try:
            requests.post(url, data=json.dumps(payload, ensure_ascii=False, default=str).encode(),
                          headers={"Content-Type": "application/json"}, timeout=10).raise_for_status()
            sent.append(url)
        except requests.RequestException as exc:
            log.warning("harvest %s: failure webhook not sent: %s", dataset.id, exc)
    return sent
