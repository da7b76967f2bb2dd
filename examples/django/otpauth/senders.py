"""Delivery of codes. The code goes to the phone, never back to the HTTP client."""
import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("otpauth")


class ConsoleSender:
    """Development sender: writes the SMS to the log instead of sending it."""

    def send(self, phone: str, code: str) -> None:
        log.info("SMS to %s: your code is %s", phone, code)


class MemorySender:
    """Test sender: keeps what was sent."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, code: str) -> None:
        MemorySender.outbox.append((phone, code))


def get_sender():
    return import_string(settings.OTP_SENDER)()
