#!/usr/bin/env bash
# The in-app import of the marketing system's work orders and meter events at province scale,
# beside each database's own bulk load of the same two files, on SQLite and on PostgreSQL:
#
#   1. ORDERS generated orders (and their meter events) imported into the demo company with
#      `gridsafe import marketing` (rows stored, then the cross-audit run over them, findings
#      written), beside `sqlite3 .import` and psql `\copy` (COPY) of the same files into tables
#      of the same columns;
#   2. a store that already holds BASE orders (imported a million at a time), then a day's DAY
#      new orders imported against it: its run reads and writes only what that import brought.
#
#   bash bench/import.sh                       # 200,000 orders; 1,000,000 in store; a day of 30,000
#   bash bench/import.sh 200000 10000000 30000 # the issue's sizes (the 10M store takes a while)
#   bash bench/import.sh 200000 0             # part 1 alone
#
# Goal (issue "Cross-audit v2", point 4): rows stored at ≥ 0.5× the database's own bulk load;
# the day's import against the big store as fast as against an empty one. Results go to
# bench/out/import/results.txt. Needs sqlite3 and psql (installed with apt-get when missing) and
# PostgreSQL on 127.0.0.1:5432 (trust auth), as the tests do; PG=0 skips PostgreSQL, SQLITE=0
# skips SQLite and WHOLE=0 skips part 1 (so that the two stores of a 10M run, tens of GB each,
# need not be on the disk at once).
set -euo pipefail
cd "$(dirname "$0")/.."
orders="${1:-200000}"
base="${2:-1000000}"
day="${3:-30000}"
out=bench/out/import
mkdir -p "$out"
for tool in sqlite3 psql; do
  command -v "$tool" >/dev/null || apt-get install -y -q "${tool/psql/postgresql-client}" >/dev/null
done
cargo build --release -q -p gridsafe
bin="${CARGO_TARGET_DIR:-target}/release/gridsafe"
export GRIDSAFE_AUDIT__SIGNING_KEY_PATH="$PWD/$out/audit-signing.key"
# The cross-audit run logs its start and end: `imported` splits the time by them.
export RUST_LOG=info
pg="postgres://postgres@127.0.0.1:5432"

# timed LABEL CMD…: runs CMD, prints LABEL, seconds and peak memory of the command.
timed() {
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >"$out/cmd.log" 2>&1 || { cat "$out/cmd.log"; exit 1; }
  read -r secs kb <"$out/time.txt"
  printf '%-44s %9.2f s %7d MB\n' "$label" "$secs" "$((kb / 1024))"
}

# imported LABEL DATABASE-URL FILE…: `gridsafe import marketing` timed, then how the time splits,
# from the server's log: reading and storing the rows (from the start until the cross-audit run
# starts), the run (until its findings are committed) and closing; and the import's summary.
imported() {
  local label=$1 url=$2 t0
  shift 2
  t0=$(date +%s.%N)
  timed "$label" "$bin" --database-url "$url" import marketing --unit XG "$@"
  rows_s=$(python3 - "$t0" "$secs" "$out/cmd.log" <<'PY'
import datetime, re, sys
t0, total, log = float(sys.argv[1]), float(sys.argv[2]), open(sys.argv[3], encoding="utf-8").read()
log = re.sub(r"\x1b\[[0-9;]*m", "", log)
def at(words):
    stamp = re.search(rf"^(\S+Z) .*{words}", log, re.M).group(1)
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() - t0
rows, done = at("cross-audit run started"), at("cross-audit run done")
print(f"{rows:.2f}")
print(f"    rows read and stored {rows:.2f} s, cross-audit run {done - rows:.2f} s (findings committed), closing {total - done:.2f} s", file=sys.stderr)
PY
  )
  echo "    $(grep -v ' INFO \| WARN ' "$out/cmd.log" | tail -1)"
}

# An export of N orders in DIR, its ids starting with PREFIX instead of WO/EV (so that exports
# of different days do not name the same orders).
export_of() { # n seed dir prefix
  local n=$1 seed=$2 dir=$3 prefix=$4
  [ -f "$dir/work_orders.csv" ] && return
  "$bin" demo export --orders "$n" --seed "$seed" --out "$dir.tmp" >/dev/null
  mkdir -p "$dir"
  sed "2,\$s/^WO/${prefix}O/" "$dir.tmp/work_orders.csv" >"$dir/work_orders.csv"
  sed "2,\$s/^E/${prefix}E/" "$dir.tmp/meter_events.csv" >"$dir/meter_events.csv"
  rm -rf "$dir.tmp"
}

# A fresh demo company on DATABASE_URL.
demo_on() {
  "$bin" --database-url "$1" demo --no-serve >/dev/null 2>&1
}

fresh_sqlite() { rm -f "$1" "$1-wal" "$1-shm"; demo_on "sqlite://$PWD/$1"; }
fresh_pg() {
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  "$bin" --database-url "$pg/$1" migrate >/dev/null 2>&1
  demo_on "$pg/$1"
}

# The database's own bulk load into GridSafe's tables as they are (their keys and indexes, an
# order already held replaced): the files into temporary tables, then one statement a table.
order_columns="order_id TEXT, order_type TEXT, customer_id TEXT, org_unit TEXT, started_at TEXT, finished_at TEXT, workers TEXT"
event_columns="event_id TEXT, meter_id TEXT, customer_id TEXT, kind TEXT, occurred_at TEXT"
same_tables="BEGIN; \
INSERT INTO marketing_imports (unit_id, files, orders, events, imported_by, imported_at) \
SELECT id, 'peer', 0, 0, 'peer', '2026-01-31T00:00:00Z' FROM org_units WHERE code = 'XG'; \
INSERT INTO marketing_orders (order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id) \
SELECT order_id, order_type, customer_id, org_unit, i.unit_id, started_at, finished_at, workers, i.id \
FROM wo, (SELECT max(id) AS id, max(unit_id) AS unit_id FROM marketing_imports) i WHERE true \
ON CONFLICT (order_id) DO UPDATE SET order_type = excluded.order_type, customer_id = excluded.customer_id, \
org_unit = excluded.org_unit, unit_id = excluded.unit_id, started_at = excluded.started_at, \
finished_at = excluded.finished_at, workers = excluded.workers, import_id = excluded.import_id; \
INSERT INTO meter_events (event_id, meter_id, customer_id, kind, occurred_at, unit_id, import_id) \
SELECT event_id, meter_id, customer_id, kind, occurred_at, i.unit_id, i.id \
FROM ev, (SELECT max(id) AS id, max(unit_id) AS unit_id FROM marketing_imports) i WHERE true \
ON CONFLICT (event_id) DO UPDATE SET meter_id = excluded.meter_id, customer_id = excluded.customer_id, \
kind = excluded.kind, occurred_at = excluded.occurred_at, unit_id = excluded.unit_id, import_id = excluded.import_id; \
COMMIT;"

# ratios BARE SAME: GridSafe's rows (the last `imported`) against the database's own bulk load
# of the files into bare tables and into GridSafe's own.
ratios() {
  python3 -c "import sys; r, b, s = map(float, sys.argv[1:4]); print(f'    rows stored at {b / r:.2f}x the bulk load into bare tables, {s / r:.2f}x into the same tables (goal >= 0.5x)')" \
    "$rows_s" "$1" "$2"
}

peer_tables="CREATE TABLE work_orders (order_id TEXT PRIMARY KEY, order_type TEXT, customer_id TEXT, org_unit TEXT, \
started_at TEXT, finished_at TEXT, workers TEXT); \
CREATE TABLE meter_events (event_id TEXT PRIMARY KEY, meter_id TEXT, customer_id TEXT, kind TEXT, occurred_at TEXT);"

day_dir="$out/day-$day"
export_of "$orders" 1 "$out/export-$orders" W
export_of "$day" 7 "$day_dir" D
files=("$out/export-$orders/work_orders.csv" "$out/export-$orders/meter_events.csv")
rows=$(($(wc -l <"${files[0]}") + $(wc -l <"${files[1]}") - 2))

{
  echo "GridSafe $(git rev-parse --short HEAD), $(nproc) cores; $orders orders and their meter events ($rows rows)"
  if [ "${WHOLE:-1}" != 0 ]; then
  echo "== 1. an export imported whole, beside the database's own bulk load of the same files"
  if [ "${SQLITE:-1}" != 0 ]; then
    rm -f "$out/peer.db"
    sqlite3 "$out/peer.db" "$peer_tables"
    timed "sqlite3 .import" sqlite3 "$out/peer.db" -cmd ".mode csv" \
      ".import --skip 1 ${files[0]} work_orders" ".import --skip 1 ${files[1]} meter_events"
    bare=$secs
    fresh_sqlite "$out/peer-same.db"
    timed "sqlite3 .import into GridSafe's tables" sqlite3 "$out/peer-same.db" -cmd ".mode csv" \
      "CREATE TEMP TABLE wo ($order_columns); CREATE TEMP TABLE ev ($event_columns);" \
      ".import --skip 1 ${files[0]} wo" ".import --skip 1 ${files[1]} ev" "$same_tables"
    same=$secs
    fresh_sqlite "$out/gridsafe.db"
    imported "gridsafe import marketing (SQLite)" "sqlite://$PWD/$out/gridsafe.db" "${files[@]}"
    ratios "$bare" "$same"
  fi
  if [ "${PG:-1}" != 0 ]; then
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS gs_bench_peer" -c "CREATE DATABASE gs_bench_peer" >/dev/null
    psql -q "$pg/gs_bench_peer" -c "$peer_tables" >/dev/null
    timed "psql \\copy (COPY)" psql -q "$pg/gs_bench_peer" \
      -c "\\copy work_orders FROM '${files[0]}' CSV HEADER" -c "\\copy meter_events FROM '${files[1]}' CSV HEADER"
    bare=$secs
    fresh_pg gs_bench_peer
    timed "psql \\copy (COPY) into GridSafe's tables" psql -q "$pg/gs_bench_peer" \
      -c "CREATE TEMP TABLE wo ($order_columns); CREATE TEMP TABLE ev ($event_columns);" \
      -c "\\copy wo FROM '${files[0]}' CSV HEADER" -c "\\copy ev FROM '${files[1]}' CSV HEADER" -c "$same_tables"
    same=$secs
    fresh_pg gs_bench_import
    imported "gridsafe import marketing (PostgreSQL)" "$pg/gs_bench_import" "${files[@]}"
    ratios "$bare" "$same"
  fi
  fi

  [ "$base" != 0 ] || exit 0
  echo "== 2. a day's $day new orders imported against a store of $base"
  base_dir="$out/base-$base"
  export_of "$base" 3 "$base_dir" B
  # The store's orders a million at a time (the reader's row limit per file).
  if [ ! -d "$base_dir/parts" ]; then
    mkdir -p "$base_dir/split"
    tail -n +2 "$base_dir/work_orders.csv" | split -l 1000000 -d -a 3 - "$base_dir/split/o"
    tail -n +2 "$base_dir/meter_events.csv" | split -l 1000000 -d -a 3 - "$base_dir/split/e"
    for part in "$base_dir"/split/o*; do
      n=${part##*/o}
      mkdir -p "$base_dir/parts/$n"
      { head -1 "$base_dir/work_orders.csv"; cat "$part"; } >"$base_dir/parts/$n/work_orders.csv"
      { head -1 "$base_dir/meter_events.csv"; cat "$base_dir/split/e$n" 2>/dev/null || true; } >"$base_dir/parts/$n/meter_events.csv"
    done
    rm -rf "$base_dir/split"
  fi
  load_base() { # database-url label
    local url=$1 label=$2 part
    for part in "$base_dir"/parts/*; do
      imported "  $label: store part ${part##*/}" "$url" "$part/work_orders.csv" "$part/meter_events.csv"
    done
    imported "$label: a day of $day against $base" "$url" "$day_dir/work_orders.csv" "$day_dir/meter_events.csv"
  }
  if [ "${SQLITE:-1}" != 0 ]; then
    fresh_sqlite "$out/store.db"
    imported "SQLite: a day of $day against the demo alone" "sqlite://$PWD/$out/store.db" \
      "$day_dir/work_orders.csv" "$day_dir/meter_events.csv"
    fresh_sqlite "$out/store.db"
    load_base "sqlite://$PWD/$out/store.db" SQLite
    echo "    the SQLite store: $(du -h "$out/store.db" | cut -f1)"
  fi
  if [ "${PG:-1}" != 0 ]; then
    fresh_pg gs_bench_store
    imported "PostgreSQL: a day of $day against the demo alone" "$pg/gs_bench_store" \
      "$day_dir/work_orders.csv" "$day_dir/meter_events.csv"
    fresh_pg gs_bench_store
    load_base "$pg/gs_bench_store" PostgreSQL
    echo "    the PostgreSQL store: $(psql -qtA "$pg/postgres" -c "SELECT pg_size_pretty(pg_database_size('gs_bench_store'))")"
  fi
} 2>&1 | tee "$out/results.txt"
