"""Phone numbers in E.164, so one person is one identity in Redis however they type it."""
import phonenumbers
from django.conf import settings


class InvalidPhone(ValueError):
    pass


def to_e164(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhone("phone is required")
    try:
        number = phonenumbers.parse(raw, settings.OTP_DEFAULT_REGION)
    except phonenumbers.NumberParseException as e:
        raise InvalidPhone(str(e)) from e
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
