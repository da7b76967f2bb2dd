"""Two JSON endpoints: POST /otp/send {phone} and POST /otp/verify {phone, code}."""
import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import otp
from .phone import InvalidPhone, to_e164
from .senders import get_sender


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _error(status: int, error: str, retry_after: int | None = None) -> JsonResponse:
    payload = {"error": error}
    if retry_after is not None:
        payload["retry_after"] = retry_after
    response = JsonResponse(payload, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


# An API for apps and scripts, authenticated by the code itself; a browser form would keep
# Django's CSRF protection instead.
@csrf_exempt
@require_POST
def send(request):
    try:
        phone = to_e164(_body(request).get("phone"))
    except InvalidPhone:
        return _error(400, "invalid_phone")
    try:
        code = otp.generate(phone)
    except otp.Refused as refused:
        return _error(429, refused.reason, refused.retry_after)
    get_sender().send(phone, code)
    return JsonResponse({"status": "sent", "phone": phone})


@csrf_exempt
@require_POST
def verify(request):
    body = _body(request)
    try:
        phone = to_e164(body.get("phone"))
    except InvalidPhone:
        return _error(400, "invalid_phone")
    code = body.get("code")
    if not isinstance(code, str) or not code:
        return _error(400, "invalid_code")
    result = otp.verify(phone, code)
    if result == "VALID":
        # Here a real app logs the user in (django.contrib.auth.login) or marks the number.
        return JsonResponse({"status": "verified", "phone": phone})
    if result == "INVALID":
        return _error(400, "invalid_code")
    if result == "BLOCKED":
        return _error(429, "blocked", max(otp.resend_in(phone), 1))
    return _error(410, "expired")
