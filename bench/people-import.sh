#!/usr/bin/env bash
# Import rate of `gridsafe import people` for N people (default 100,000) with two
# qualifications each, on the embedded SQLite default and on PostgreSQL, in the same run.
#
#   bash bench/people-import.sh [N]
#
# Builds the release binary, writes persons.csv and qualifications.csv into bench/out/, imports
# them into a fresh SQLite file and a fresh PostgreSQL database (postgres://postgres@127.0.0.1),
# and prints rows per second for each. Needs psql for the PostgreSQL half (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
out=bench/out/people-import
rm -rf "$out" && mkdir -p "$out"
cargo build --release -q -p gridsafe
bin="${CARGO_TARGET_DIR:-target}/release/gridsafe"

python3 - "$n" "$out" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(f"{out}/persons.csv", "w", encoding="utf-8") as f:
    f.write("person_id,name,org_unit,contractor_id,post\n")
    for i in range(n):
        f.write(f"B{i:07d},人员{i},XG,,装表接电\n")
with open(f"{out}/qualifications.csv", "w", encoding="utf-8") as f:
    f.write("person_id,kind,valid_from,valid_to\n")
    for i in range(n):
        f.write(f"B{i:07d},safety_exam,2026-01-01,2026-12-31\n")
        f.write(f"B{i:07d},work_leader,2026-01-01,2026-12-31\n")
PY
rows=$((n * 3))

run() { # name url
  local name=$1 url=$2 start end
  export GRIDSAFE_AUDIT__SIGNING_KEY_PATH="$out/$name.key"
  # The demo company provides the units the rows belong to.
  # The demo company provides the units the rows belong to.
  "$bin" --database-url "$url" demo --no-serve >/dev/null
  start=$(date +%s.%N)
  "$bin" --database-url "$url" import people "$out/persons.csv" "$out/qualifications.csv" >"$out/$name.log" 2>&1
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]:<10} {int(sys.argv[4]):>8} rows in {s:6.2f} s = {int(sys.argv[4])/s:>9.0f} rows/s')" "$start" "$end" "$name" "$rows"
}

echo "gridsafe import people: $n people + $((2 * n)) qualifications"
run sqlite "sqlite://$out/bench.db"
if command -v psql >/dev/null && psql -h 127.0.0.1 -U postgres -qc 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS gridsafe_bench' -c 'CREATE DATABASE gridsafe_bench'
  "$bin" --database-url postgres://postgres@127.0.0.1/gridsafe_bench migrate >/dev/null
  run postgres "postgres://postgres@127.0.0.1/gridsafe_bench"
  psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE gridsafe_bench'
else
  echo "postgres   skipped (no PostgreSQL on 127.0.0.1)"
fi
