"""The whole OTP logic: two module commands through django-redis's connection."""
import re
from dataclasses import dataclass

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import ResponseError

RETRY = re.compile(r"retry in (\d+) s")


@dataclass
class Refused(Exception):
    """OTP.GENERATE said COOLDOWN, RATELIMIT or LOCKED."""

    reason: str
    retry_after: int


def generate(phone: str) -> str:
    try:
        code = get_redis_connection("default").execute_command(
            "OTP.GENERATE", phone, "PURPOSE", settings.OTP_PURPOSE
        )
    except ResponseError as e:
        reason, _, text = str(e).partition(" ")
        if reason not in ("COOLDOWN", "RATELIMIT", "LOCKED"):
            raise
        match = RETRY.search(text)
        raise Refused(reason.lower(), int(match.group(1)) if match else 1) from e
    return code.decode()


def verify(phone: str, code: str) -> str:
    """VALID, INVALID, BLOCKED or EXPIRED."""
    reply = get_redis_connection("default").execute_command(
        "OTP.VERIFY", phone, code, "PURPOSE", settings.OTP_PURPOSE
    )
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def resend_in(phone: str) -> int:
    """Seconds until a new code may be sent (cooldown, full window or lock)."""
    fields = get_redis_connection("default").execute_command("OTP.STATUS", phone)
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2]))
    return int(fields.get(b"resend_in", fields.get("resend_in", 0)))
