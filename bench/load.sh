#!/usr/bin/env bash
# Signed-in reads under load, beside the peer that does no work: requests per second and p50/p99
# latency of /healthz (no session, no database), the ticket list page (/tickets) and the ticket
# list API (/api/v1/tickets), signed in, at 1, 8, 32 and 128 connections, on the demo company and
# the embedded SQLite default, with the server's CPU time a request (cpu_us); then the server's
# peak RSS while 512 connections read the list page. The list page is kept between requests while
# no commit changes the data (web layout::kept); `list-page-new` asks a new address every time
# (an unused parameter with a counter), so every page is read and rendered afresh: what the page
# costs right after a write.
#
#   bash bench/load.sh            # 10 s per measurement
#   DURATION=30s bash bench/load.sh
#   BIN=/path/to/gridsafe bash bench/load.sh   # another build, to compare two
#
# Goals (issue "Security hardening", point 10): the list page at ≥ 0.3× the /healthz rate and
# p99 < 50 ms at 32 connections; RSS < 256 MB at 512 connections. Needs wrk (installed with
# apt-get when missing). Results go to bench/out/load/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/server.sh
duration="${DURATION:-10s}"
out=bench/out/load
rm -rf "$out" && mkdir -p "$out"
command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }
# BIN=path measures another build of gridsafe (two builds side by side); by default this one's.
[ -n "${BIN:-}" ] || cargo build --release -q -p gridsafe
bin="${BIN:-${CARGO_TARGET_DIR:-target}/release/gridsafe}"

db="sqlite://$PWD/$out/gridsafe.db"
export GRIDSAFE_AUDIT__SIGNING_KEY_PATH="$PWD/$out/audit-signing.key"
"$bin" --database-url "$db" demo --no-serve >/dev/null
port=$(free_port)
base="http://127.0.0.1:$port"
"$bin" --database-url "$db" serve --listen "127.0.0.1:$port" >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
wait_ready "$base"

# A session (the auditor reads every ticket of the demo city) and an API token of the same user.
jar="$out/cookies"
cookie=$(sign_in "$base" "$jar")
token=$(curl -fsS -H "Cookie: $cookie" -H 'Content-Type: application/json' \
  -d '{"name":"bench","permissions":["tickets.view"],"valid_days":1}' "$base/api/v1/tokens" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
tickets=$(curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/tickets" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

# The server's CPU time so far (user + system), in clock ticks: its CPU a request is steadier
# than requests per second on a machine whose speed moves from run to run.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# Each of wrk's threads counts from its own base, so no two requests ask the same address.
cat >"$out/new.lua" <<'LUA'
local threads = 0
function setup(thread) threads = threads + 1; thread:set("base", threads * 100000000) end
function init(args) counter = base end
function request() counter = counter + 1; return wrk.format(nil, wrk.path .. "?bench=" .. counter) end
LUA

measure() { # label connections url [header] [wrk script]
  local label=$1 c=$2 url=$3 header=${4:-X-Bench: 1} script=${5:-} threads before after
  threads=$((c < 2 ? 1 : 2))
  before=$(cpu_ticks)
  wrk -t"$threads" -c"$c" -d"$duration" --latency -H "$header" ${script:+-s "$script"} "$url" >"$out/wrk.txt"
  after=$(cpu_ticks)
  python3 - "$label" "$c" "$out/wrk.txt" "$((after - before))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
label, c, path, ticks, hz = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
text = open(path).read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
cpu_us = ticks * 1e6 / hz / max(requests, 1)
def pct(p):
    m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{label:<14} {c:>5} {rate:>10.0f} {pct(50):>9.2f} {pct(99):>9.2f} {cpu_us:>8.0f} {bad.group(1) if bad else 0:>8}")
PY
}

{
  echo "GridSafe $(git rev-parse --short HEAD), $(nproc) cores, SQLite, demo company ($tickets tickets visible), $duration each"
  printf '%-14s %5s %10s %9s %9s %8s %8s\n' target conns req/s p50_ms p99_ms cpu_us non2xx
  for c in 1 8 32 128; do
    measure healthz "$c" "$base/healthz"
    measure list-page "$c" "$base/tickets" "Cookie: $cookie"
    measure list-page-new "$c" "$base/tickets" "Cookie: $cookie" "$out/new.lua"
    measure list-api "$c" "$base/api/v1/tickets" "Authorization: Bearer $token"
  done
  # Peak RSS while 512 connections read the list page.
  peak=0
  wrk -t2 -c512 -d"$duration" -H "Cookie: $cookie" "$base/tickets" >"$out/wrk512.txt" &
  load=$!
  while kill -0 "$load" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.1
  done
  echo "peak RSS at 512 connections on the list page: $((peak / 1024)) MB ($(grep -o 'Requests/sec:.*' "$out/wrk512.txt"))"
} | tee "$out/results.txt"
