#!/usr/bin/env bash
# Cross-audit benchmark: `gridsafe audit` against DuckDB running the same 17 rules as SQL
# (bench/crossaudit_duckdb.py) over the same generated export, in the same run; both must give
# the same findings. Prints wall time and peak memory of each, and the ratios.
#
#   bash bench/crossaudit.sh [ORDERS ...]      (default: 1000000 10000000)
#   BUDGET=16384 bash bench/crossaudit.sh 10000000   (`--memory-budget` in MB; by default 4096,
#                                                      beyond which the export is split on disk)
#
# Needs python3 (a venv with duckdb is made in .venv if missing) and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
cargo build --release -q -p gridsafe
bin="${CARGO_TARGET_DIR:-target}/release/gridsafe"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c 'import duckdb' 2>/dev/null || .venv/bin/pip install -q duckdb
out=bench/out/crossaudit
mkdir -p "$out"
as_of=2026-01-31

measure() { # label command... -> "seconds peak_kb"
  local log="$out/$1.time"; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
  echo "$wall $rss"
}

ready() { cat "$1"/*.csv >/dev/null; sync; }

printf '%-10s %-9s %10s %12s\n' orders engine seconds "peak MB"
for n in "${sizes[@]}"; do
  dir="$out/export-$n"
  [ -f "$dir/tickets.csv" ] || "$bin" demo export --orders "$n" --seed 1 --out "$dir" >/dev/null
  # Each engine reads the export from the page cache: it is read once just before each is timed
  # (otherwise the first to run after a build or a large run pays for the disk), and starts with
  # nothing left to write back (`sync`: the kernel's writing out of the findings before would
  # take the CPU). Neither replaces the findings of an earlier run (ext4 writes a file replaced
  # by rename or truncation out at once).
  rm -f "$out/gridsafe-$n.csv" "$out/duckdb-$n.csv"
  ready "$dir"
  read -r gs_s gs_kb < <(measure "gridsafe-$n" "$bin" audit --input "$dir" --as-of "$as_of" --out "$out/gridsafe-$n.csv" \
    ${BUDGET:+--memory-budget "$BUDGET"})
  ready "$dir"
  read -r dk_s dk_kb < <(measure "duckdb-$n" .venv/bin/python bench/crossaudit_duckdb.py "$dir" "$as_of" "$out/duckdb-$n.csv")
  tail -n +2 "$out/gridsafe-$n.csv" | cut -d, -f1-4 | LC_ALL=C sort >"$out/gridsafe-$n.keys"
  LC_ALL=C sort "$out/duckdb-$n.csv" >"$out/duckdb-$n.keys"
  if cmp -s "$out/gridsafe-$n.keys" "$out/duckdb-$n.keys"; then same="same $(wc -l <"$out/duckdb-$n.keys") findings"; else same="FINDINGS DIFFER"; fi
  printf '%-10s %-9s %10.2f %12.0f\n' "$n" gridsafe "$gs_s" "$((gs_kb / 1024))"
  printf '%-10s %-9s %10.2f %12.0f\n' "$n" duckdb "$dk_s" "$((dk_kb / 1024))"
  python3 -c "import sys; g,d,gm,dm=map(float,sys.argv[1:5]); print(f'{int(sys.argv[5]):<10} speed-up {d/g:.2f}x (goal >= 5x), memory {gm/dm:.2f} of DuckDB (goal <= 0.5); {sys.argv[6]}')" \
    "$gs_s" "$dk_s" "$gs_kb" "$dk_kb" "$n" "$same"
  [ "$same" != "FINDINGS DIFFER" ] || exit 1
done
