"""Starts a real redis-server with the OTP module for the test session, and always stops it."""
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[3]
DEFAULTS = {
    "otp.digits": "6",
    "otp.ttl": "120",
    "otp.attempts": "3",
    "otp.cooldown": "60",
    "otp.max-sends": "5",
    "otp.send-window": "600",
    "otp.max-failures": "10",
    "otp.lockout": "900",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    module = Path(os.environ.get("OTP_MODULE", ROOT / "target/debug/libredis_otp.so"))
    if not module.exists():
        pytest.fail(f"{module} is missing: build the module first (make build)")
    server = os.environ.get("REDIS_SERVER", "redis-server")
    with tempfile.TemporaryDirectory() as workdir:
        secret = Path(workdir, "otp.secret")
        secret.write_text("django-example-secret-at-least-32-bytes-long\n")
        secret.chmod(0o600)
        port = _free_port()
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
             "--save", "", "--logfile", str(Path(workdir, "redis.log")),
             "--loadmodule", str(module), "secret-file", str(secret)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log = Path(workdir, "redis.log")
                        pytest.fail("redis-server did not start:\n" + (log.read_text() if log.exists() else ""))
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def otp_redis(redis_url, settings):
    """Each test: the example pointed at the test server, fresh data and default limits."""
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}
    }
    settings.OTP_SENDER = "otpauth.senders.MemorySender"
    from otpauth.senders import MemorySender

    MemorySender.outbox.clear()
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    for name, value in DEFAULTS.items():
        client.config_set(name, value)
    yield client
    client.close()
