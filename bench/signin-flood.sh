#!/usr/bin/env bash
# A sign-in flood, no account needed: 200 connections posting wrong passwords for random
# usernames, with the per-address limit raised so that every attempt reaches the password check
# (as from many addresses). Side by side in the same run: the server as shipped (password checks
# bounded to one per core, a queue of 16, "busy" beyond) and the same server with the bound as
# loose as the settings allow (64 checks at once, 1,024 waiting). Reports the answers, p99 and the
# peak RSS of each.
#
#   bash bench/signin-flood.sh          # 20 s per server
#   DURATION=60s bash bench/signin-flood.sh
#
# The bound shown (issue "Security hardening", point 1): RSS stays under 256 MB as shipped. Needs
# wrk (installed with apt-get when missing). Results go to bench/out/signin-flood/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/server.sh
duration="${DURATION:-20s}"
out=bench/out/signin-flood
rm -rf "$out" && mkdir -p "$out"
command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }
cargo build --release -q -p gridsafe
bin="${CARGO_TARGET_DIR:-target}/release/gridsafe"

cat >"$out/flood.lua" <<'LUA'
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Sec-Fetch-Site"] = "same-origin"
request = function()
  local body = "username=u" .. math.random(1, 1000000000) .. "&password=Wrong-" .. math.random(1, 1000000)
  return wrk.format(nil, "/login", nil, body)
end
done = function(summary, latency)
  io.write(string.format("P99 %.1f\n", latency:percentile(99) / 1000))
end
LUA

flood() { # label [extra env...]
  local label=$1; shift
  local dir="$out/$label" port pid peak=0 idle rss load
  mkdir -p "$dir"
  port=$(free_port)
  env GRIDSAFE_AUDIT__SIGNING_KEY_PATH="$PWD/$dir/audit.key" GRIDSAFE_SECURITY__LOGIN_ATTEMPTS_PER_WINDOW=100000000 "$@" \
    "$bin" --database-url "sqlite://$PWD/$dir/gs.db" serve --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
  pid=$!
  wait_ready "http://127.0.0.1:$port"
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wrk -t2 -c200 -d"$duration" -s "$out/flood.lua" "http://127.0.0.1:$port/login" >"$dir/wrk.txt" &
  load=$!
  while kill -0 "$load" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.1
  done
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  printf '%-10s idle %4d MB  peak %5d MB  2 s after %5d MB  p99 %7s ms  %s  %s\n' "$label" $((idle / 1024)) $((peak / 1024)) \
    $((rss / 1024)) "$(awk '/^P99/ {print $2}' "$dir/wrk.txt")" "$(grep -o 'Requests/sec:.*' "$dir/wrk.txt")" \
    "answers $(sed 's/\x1b\[[0-9;]*m//g' "$dir/server.log" | grep -o 'on_response.*status=[0-9]*' | grep -o '[0-9]*$' | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

{
  echo "GridSafe $(git rev-parse --short HEAD), $(nproc) cores, 200 connections of wrong passwords for random names, $duration each"
  flood shipped
  flood loose GRIDSAFE_SECURITY__HASH_WORKERS=64 GRIDSAFE_SECURITY__HASH_QUEUE=1024 GRIDSAFE_SECURITY__HASH_WAIT_MS=600000
} | tee "$out/results.txt"
