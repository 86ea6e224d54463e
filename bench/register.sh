#!/usr/bin/env bash
# The customer register at province size: the pages that judge every customer in reach (the
# home page's overdue inspections, the register filtered to the overdue, the safety dashboard,
# the month's inspection plan) and one page of the register, each read twice, signed in as the
# demo safety auditor, with the server's peak RSS, on the demo company plus N generated
# customers (one in ten first-class important and overdue), on the embedded SQLite default. The
# peer is the register of the size before it: time should grow with the register (it is read a
# batch at a time), a page of the register should not.
#
#   bash bench/register.sh                 # 20000 and 200000 customers
#   bash bench/register.sh 50000 500000
#   BIN=/path/to/gridsafe bash bench/register.sh
#
# Needs sqlite3 (installed with apt-get when missing). Results go to bench/out/register/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/server.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20000 200000)
out=bench/out/register
rm -rf "$out" && mkdir -p "$out"
command -v sqlite3 >/dev/null || { apt-get install -y -q sqlite3 >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q sqlite3 >/dev/null; }; }
[ -n "${BIN:-}" ] || cargo build --release -q -p gridsafe
bin="${BIN:-${CARGO_TARGET_DIR:-target}/release/gridsafe}"

seconds() { # cookie url -> seconds of one request
  curl -s -o /dev/null -w '%{time_total}' -H "Cookie: $1" "$2"
}

{
  echo "GridSafe $(git rev-parse --short HEAD), $(nproc) cores, SQLite, demo company + N customers"
  printf '%-9s %-24s %9s %9s\n' customers page first_s second_s
  for n in "${sizes[@]}"; do
    dir="$PWD/$out/$n"
    mkdir -p "$dir"
    export GRIDSAFE_AUDIT__SIGNING_KEY_PATH="$dir/audit-signing.key"
    "$bin" --database-url "sqlite://$dir/gridsafe.db" demo --no-serve >/dev/null 2>&1
    unit=$(sqlite3 "$dir/gridsafe.db" "SELECT id FROM org_units WHERE kind = 'county' ORDER BY id LIMIT 1")
    sqlite3 "$dir/gridsafe.db" "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, \
      industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) \
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n) \
      SELECT CAST(3000000000 + i AS TEXT), '客户' || i, '书院街', $unit, CASE WHEN i % 10 = 0 THEN 10 ELSE 0.4 END, \
      CASE WHEN i % 10 = 0 THEN 'first' ELSE 'none' END, '商业', 1, 'none', '2025-01-01', '2026-01-01T00:00:00.000000Z', 'bench' FROM n"
    port=$(free_port)
    base="http://127.0.0.1:$port"
    "$bin" --database-url "sqlite://$dir/gridsafe.db" serve --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    wait_ready "$base"
    cookie=$(sign_in "$base" "$dir/cookies")
    for page in / "/customers?due=overdue" /safety /inspections/plan /customers; do
      printf '%-9s %-24s %9s %9s\n' "$n" "$page" "$(seconds "$cookie" "$base$page")" "$(seconds "$cookie" "$base$page")"
    done
    printf '%-9s %-24s %s\n' "$n" "peak RSS" "$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
} | tee "$out/results.txt"
