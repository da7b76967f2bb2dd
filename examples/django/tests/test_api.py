"""Every reply path of the two endpoints, through HTTP, against the real module."""
import json
import re

import pytest

from otpauth.senders import MemorySender

PHONE = "+1 650 253 0000"
E164 = "+16502530000"


def post(client, path, payload):
    return client.post(path, data=json.dumps(payload), content_type="application/json")


def send(client, phone=PHONE):
    return post(client, "/otp/send", {"phone": phone})


def verify(client, code, phone=PHONE):
    return post(client, "/otp/verify", {"phone": phone, "code": code})


def last_code():
    return MemorySender.outbox[-1][1]


def wrong(code):
    return ("1" if code[0] == "0" else "0") + code[1:]


def test_send_delivers_a_code_but_never_returns_it(client):
    response = send(client)
    assert response.status_code == 200
    assert response.json() == {"status": "sent", "phone": E164}
    assert len(MemorySender.outbox) == 1
    phone, code = MemorySender.outbox[0]
    assert phone == E164
    assert re.fullmatch(r"\d{6}", code)
    assert code not in response.content.decode()


def test_verify_valid_once_then_expired(client):
    send(client)
    code = last_code()
    response = verify(client, code)
    assert response.status_code == 200
    assert response.json() == {"status": "verified", "phone": E164}
    again = verify(client, code)
    assert again.status_code == 410
    assert again.json() == {"error": "expired"}


def test_phone_numbers_are_normalized(client):
    send(client, "(650) 253-0000")
    assert MemorySender.outbox[-1][0] == E164
    assert verify(client, last_code(), phone="+1 650-253-0000").status_code == 200


def test_wrong_code_is_400_then_blocked_is_429(client, otp_redis):
    send(client)
    code = last_code()
    first = verify(client, wrong(code))
    assert first.status_code == 400
    assert first.json() == {"error": "invalid_code"}
    assert verify(client, wrong(code)).status_code == 400
    blocked = verify(client, wrong(code))
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "blocked"
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert verify(client, code).status_code == 429, "even the right code once blocked"


def test_resend_within_cooldown_is_429_with_retry_after(client):
    assert send(client).status_code == 200
    response = send(client)
    assert response.status_code == 429
    assert response.json() == {"error": "cooldown", "retry_after": 60}
    assert response["Retry-After"] == "60"
    assert len(MemorySender.outbox) == 1


def test_send_cap_is_429_ratelimit(client, otp_redis):
    otp_redis.config_set("otp.cooldown", "0")
    otp_redis.config_set("otp.max-sends", "2")
    assert send(client).status_code == 200
    assert send(client).status_code == 200
    response = send(client)
    assert response.status_code == 429
    assert response.json() == {"error": "ratelimit", "retry_after": 600}
    assert response["Retry-After"] == "600"


def test_repeated_failures_lock_the_number(client, otp_redis):
    otp_redis.config_set("otp.max-failures", "2")
    otp_redis.config_set("otp.cooldown", "0")
    send(client)
    code = last_code()
    assert verify(client, wrong(code)).status_code == 400
    locked_now = verify(client, wrong(code))
    assert locked_now.status_code == 429
    assert locked_now["Retry-After"] == "900"
    response = send(client)
    assert response.status_code == 429
    assert response.json() == {"error": "locked", "retry_after": 900}
    assert response["Retry-After"] == "900"


def test_no_code_sent_is_expired(client):
    response = verify(client, "123456")
    assert response.status_code == 410
    assert response.json() == {"error": "expired"}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/otp/send", {}),
        ("/otp/send", {"phone": "12"}),
        ("/otp/send", {"phone": 16502530000}),
        ("/otp/send", "not an object"),
        ("/otp/verify", {"code": "123456"}),
        ("/otp/verify", {"phone": "not a phone", "code": "123456"}),
    ],
)
def test_bad_phone_is_400(client, path, body):
    response = post(client, path, body)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_phone"}


@pytest.mark.parametrize("code", [None, "", 123456])
def test_missing_code_is_400(client, code):
    response = post(client, "/otp/verify", {"phone": PHONE, "code": code})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_code"}


def test_broken_json_is_400(client):
    response = client.post("/otp/send", data=b"{oops", content_type="application/json")
    assert response.status_code == 400


def test_only_post(client):
    assert client.get("/otp/send").status_code == 405
    assert client.get("/otp/verify").status_code == 405


def test_identity_in_redis_is_not_the_phone_number(client, otp_redis):
    send(client)
    keys = otp_redis.keys("*")
    assert len(keys) == 1
    assert b"6502530000" not in keys[0]
    assert last_code().encode() not in otp_redis.get(keys[0])
