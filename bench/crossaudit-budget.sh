#!/usr/bin/env bash
# Cross-audit within a memory budget: `gridsafe audit --memory-budget MB` over a generated export
# too large to audit in memory, split on disk by customer and by person. Prints wall time, peak
# memory against the budget, and the scratch space the partitions took.
#
#   bash bench/crossaudit-budget.sh [ORDERS] [BUDGET_MB]      (default: 30000000 4096)
#   COMPARE=1 bash bench/crossaudit-budget.sh 10000000 2048   (also audits in memory and
#                                                              checks both files are identical)
#
# The export (about 235 bytes an order) is kept in bench/out/crossaudit for later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-30000000}
budget=${2:-4096}
cargo build --release -q -p gridsafe
bin="${CARGO_TARGET_DIR:-target}/release/gridsafe"
out=bench/out/crossaudit
mkdir -p "$out"
dir="$out/export-$orders"
if [ ! -f "$dir/tickets.csv" ]; then
  echo "generating $orders orders in $dir ..."
  "$bin" demo export --orders "$orders" --seed 1 --out "$dir" >/dev/null
fi
export_mb=$(du -sLm "$dir" | cut -f1)

# Peak scratch space, sampled while the audit runs.
scratch_peak=0
/usr/bin/time -v "$bin" audit --input "$dir" --as-of 2026-01-31 --out "$out/budget-$orders.csv" \
  --memory-budget "$budget" >"$out/budget-$orders.log" 2>"$out/budget-$orders.time" &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  used=$( (du -sm "$out"/.gridsafe-audit-* 2>/dev/null || true) | awk '{s+=$1} END {print s+0}')
  [ "$used" -le "$scratch_peak" ] || scratch_peak=$used
  sleep 1
done
wait "$pid"
wall=$(grep 'Elapsed (wall clock)' "$out/budget-$orders.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
rss_kb=$(grep 'Maximum resident set size' "$out/budget-$orders.time" | awk '{print $NF}')
findings=$(($(wc -l <"$out/budget-$orders.csv") - 1))
printf '%s orders (%s MB export), budget %s MB: %.1f s, peak %s MB (%.2f of the budget), scratch %s MB, %s findings\n' \
  "$orders" "$export_mb" "$budget" "$wall" "$((rss_kb / 1024))" "$(python3 -c "print($rss_kb / 1024 / $budget)")" \
  "$scratch_peak" "$findings"
[ "$((rss_kb / 1024))" -le "$budget" ] || { echo "OVER THE BUDGET"; exit 1; }

if [ "${COMPARE:-0}" = 1 ]; then
  /usr/bin/time -f '%e s %M KB' "$bin" audit --input "$dir" --as-of 2026-01-31 --out "$out/memory-$orders.csv" \
    --memory-budget 1000000 >/dev/null
  if cmp -s "$out/budget-$orders.csv" "$out/memory-$orders.csv"; then
    echo "in memory: the same file, byte for byte"
  else
    echo "FINDINGS DIFFER from the in-memory audit"
    exit 1
  fi
fi
