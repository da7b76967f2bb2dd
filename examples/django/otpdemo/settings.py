"""Settings for the redis-otp Django example: no database, Redis through django-redis."""
import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = ["otpauth"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "otpdemo.urls"
DATABASES = {}
USE_TZ = True

# The Redis that has the OTP module loaded (`make run` in the project root starts one).
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("OTP_REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
}

# Who delivers the code: a class with `send(phone, code)`. Swap in your SMS provider.
OTP_SENDER = "otpauth.senders.ConsoleSender"
# Region assumed for numbers written without a country code.
OTP_DEFAULT_REGION = "US"
# Codes sent for login only verify for login.
OTP_PURPOSE = "login"

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"otpauth": {"handlers": ["console"], "level": "INFO"}},
}
