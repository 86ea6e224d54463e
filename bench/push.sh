#!/usr/bin/env bash
# The push feed under a sustained load, on the embedded SQLite default and on PostgreSQL: batches
# of 1,000 work orders pushed one after another to POST /api/v1/work-orders with a push-only token
# (each batch stored and audited before the next is sent, as the marketing system would), then the
# same batches again (idempotent: nothing written), then the latency from pushing one ticketless
# field order to its finding on the auditor's list and to a signed webhook delivery of it at a
# receiver on this machine (the sender looks at its outbox every webhooks.poll_seconds, default 2).
#
#   bash bench/push.sh              # 20 batches of 1,000
#   BATCHES=50 bash bench/push.sh
#
# PostgreSQL is used at 127.0.0.1:5432 (user postgres) when it answers. Results go to
# bench/out/push/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/server.sh
batches="${BATCHES:-20}"
out=bench/out/push
rm -rf "$out" && mkdir -p "$out"
cargo build --release -q -p gridsafe
bin="${CARGO_TARGET_DIR:-target}/release/gridsafe"

run() { # label database-url
  local label=$1 db=$2 port pid base jar cookie token
  export GRIDSAFE_AUDIT__SIGNING_KEY_PATH="$PWD/$out/$label-signing.key"
  "$bin" --database-url "$db" migrate >/dev/null 2>&1 || true
  "$bin" --database-url "$db" demo --no-serve >/dev/null
  port=$(free_port)
  base="http://127.0.0.1:$port"
  GRIDSAFE_WEBHOOKS__ALLOW_LOCAL=true \
    "$bin" --database-url "$db" serve --listen "127.0.0.1:$port" >"$out/$label-server.log" 2>&1 &
  pid=$!
  wait_ready "$base"
  jar="$out/$label-cookies"
  cookie=$(sign_in "$base" "$jar")
  token=$(curl -fsS -H "Cookie: $cookie" -H 'Content-Type: application/json' \
    -d '{"name":"bench-push","permissions":["marketing.push","findings.view","webhooks.manage"],"valid_days":1}' "$base/api/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  python3 - "$label" "$base" "$token" "$batches" <<'PY'
import http.server, json, sys, threading, time, urllib.request
label, base, token, batches = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
# The demo city (孝感供电公司) is unit 2 on a fresh demo database; its county centres by name.
# Mostly office-side orders; one in a hundred a ticketless meter replacement (a finding).
kinds = ["meter_reading", "customer_visit", "fee_collection"]
def batch(b):
    orders = []
    for n in range(1000):
        i = b * 1000 + n
        day = 1 + i % 28
        orders.append({"order_id": f"BENCH-{i:07d}", "order_type": "meter_replacement" if i % 100 == 0 else kinds[i % 3],
                       "customer_id": f"43{i % 50000:08d}", "org_unit": "孝南供电中心",
                       "started_at": f"2026-10-{day:02d} 09:00", "finished_at": f"2026-10-{day:02d} 10:00",
                       "workers": ["XG1020", "XG1021"]})
    return {"unit_id": 2, "orders": orders}
lat = []
t0 = time.perf_counter()
for b in range(batches):
    s = time.perf_counter()
    r = call("POST", "/api/v1/work-orders", batch(b))
    lat.append(time.perf_counter() - s)
    assert r["new"] == 1000, r
total = time.perf_counter() - t0
t1 = time.perf_counter()
for b in range(batches):
    r = call("POST", "/api/v1/work-orders", batch(b))
    assert r["unchanged"] == 1000, r
again = time.perf_counter() - t1
lat.sort()
# End to end: one ticketless field order, until its finding is listed and until a webhook
# receiver on this machine has its signed delivery.
heard = {}
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if any(f["entity_id"] == "BENCH-LIVE" for f in body["data"].get("findings", [])) and self.headers["X-GridSafe-Signature"]:
            heard.setdefault("at", time.perf_counter())
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
call("POST", "/api/v1/webhooks", {"unit_id": 2, "name": "bench", "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                                  "format": "json", "events": ["finding.opened"]})
s = time.perf_counter()
call("POST", "/api/v1/work-orders", {"unit_id": 2, "orders": [{"order_id": "BENCH-LIVE", "order_type": "meter_replacement",
     "customer_id": "4399999999", "org_unit": "孝南供电中心", "started_at": "2026-09-30 09:00",
     "finished_at": "2026-09-30 10:00", "workers": ["XG1020", "XG1021"]}]})
while not any(f["entity_id"] == "BENCH-LIVE" for f in call("GET", "/api/v1/findings?rule=NO_TICKET&month=2026-09")):
    time.sleep(0.05)
live = time.perf_counter() - s
while "at" not in heard and time.perf_counter() - s < 60:
    time.sleep(0.02)
hook = heard.get("at", float("nan")) - s
n = batches * 1000
print(f"{label:<10} {n:>8} orders  {n / total:>8.0f} orders/s  batch p50 {lat[len(lat) // 2] * 1000:>7.0f} ms"
      f"  p95 {lat[int(len(lat) * 0.95) - 1] * 1000:>7.0f} ms  resent {n / again:>8.0f} orders/s"
      f"  push→finding {live * 1000:>6.0f} ms  push→webhook {hook * 1000:>6.0f} ms")
PY
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

{
  echo "GridSafe $(git rev-parse --short HEAD), $(nproc) cores, $batches batches of 1,000 orders after the demo company"
  run sqlite "sqlite://$PWD/$out/gridsafe.db"
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS gridsafe_bench_push" >/dev/null
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE gridsafe_bench_push" >/dev/null
    run postgres "postgres://postgres@127.0.0.1:5432/gridsafe_bench_push"
  fi
} | tee "$out/results.txt"
