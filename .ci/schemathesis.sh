#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with schemathesis; fails on any failure.
# Usage: .ci/schemathesis.sh [path/to/gridsafe]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/gridsafe}"
st="${SCHEMATHESIS:-.venv/bin/schemathesis}"
dir="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" --database-url "sqlite://$dir/gridsafe.db" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$dir/server.log"; exit 1; }
"$st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --checks all \
  --max-examples 50 \
  --request-timeout 5 \
  --workers 2 \
  --no-color
