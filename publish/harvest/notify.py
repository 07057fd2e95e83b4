"""Telling the dataset's steward that a harvest failed: an e-mail to the dataset's contact (catalog.yaml
`contact.email`) and/or a JSON POST to a webhook. Declared per source: `notify: {email: true, webhook_env:
HUB_...}`; the SMTP server comes from HUB_SMTP_HOST, HUB_SMTP_PORT (25) and HUB_SMTP_FROM. A notice that
cannot be sent is logged; it never changes the harvest's outcome."""

from __future__ import annotations

import json
import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Any

import requests

from core.catalog import Dataset

log = logging.getLogger("hub.harvest")


def failed(dataset: Dataset, spec: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """Send the failure notices the source asks for; returns where they went."""
    notify = spec.get("notify") or {}
    sent: list[str] = []
    subject = f"[Cổng dữ liệu] Thu thập «{dataset.id}» thất bại / Harvest of «{dataset.id}» failed"
    body = (f"{row.get('error_vi') or ''}\n\n{row.get('error_en') or ''}\n\n"
            f"Nguồn / Source: {row.get('source_url')}\nLần / Attempt: {row.get('id')} ({row.get('started_at')})\n"
            "Phiên bản đang phục vụ không đổi. / The served version is unchanged.\n")
    to = (dataset.entry.get("contact") or {}).get("email")
    host = os.environ.get("HUB_SMTP_HOST")
    if notify.get("email") and to and host:
        message = EmailMessage()
        message["Subject"], message["To"] = subject, to
        message["From"] = os.environ.get("HUB_SMTP_FROM", "hub@localhost")
        message.set_content(body)
        try:
            with smtplib.SMTP(host, int(os.environ.get("HUB_SMTP_PORT", "25")), timeout=10) as smtp:
                smtp.send_message(message)
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
