"""E-mail out of the hub (harvest failure notices, `hub check-config`'s SMTP check): one way to reach the
SMTP server named by the settings (HUB_SMTP_HOST, _PORT, _TLS, _USER, _PASSWORD, _FROM)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from core.config import Settings

TIMEOUT = 10.0


@contextmanager
def smtp_session(settings: Settings, timeout: float = TIMEOUT) -> Iterator[smtplib.SMTP]:
    """A connected SMTP session, TLS and login done as the settings ask. Raises OSError or SMTPException."""
    if not settings.smtp_host:
        raise smtplib.SMTPException("HUB_SMTP_HOST is not set")
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password)
        yield smtp


def send(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message from HUB_SMTP_FROM. Raises OSError or SMTPException when it cannot."""
    message = EmailMessage()
    message["Subject"], message["To"], message["From"] = subject, to, settings.smtp_from
    message.set_content(body)
    with smtp_session(settings) as smtp:
        smtp.send_message(message)


def check(settings: Settings) -> str | None:
    """`hub check-config`'s line for SMTP: None when no server is set, "ok" when it answers (and takes the
    TLS and login asked for), else one line saying what is wrong."""
    if not settings.smtp_host:
        return None
    try:
        with smtp_session(settings, timeout=5) as smtp:
            smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        text = str(exc).strip().splitlines()
        return f"error: {type(exc).__name__}" + (f": {text[0]}" if text else "")
    return "ok"
