#!/usr/bin/env bash
# Two trees of this project (e.g. before and after a refactor) measured side by
# side in one run: the same room_bench cell for each, interleaved A B A B, so
# that the machine's state hits both alike.  Loopback only; bounded.
#
#   bench/compare_trees.sh OLD_TREE [NEW_TREE] [room_bench options]
#   git worktree add /tmp/old f886a4d && ln -s "$PWD/.venv" /tmp/old/.venv
#   bench/compare_trees.sh /tmp/old . --clients 100 --throughput -T 8
#   ROUNDS=5 bench/compare_trees.sh ...     (more rounds: the mean is steadier; default 2)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/compare_trees.sh /tmp/old . --clients 100 --throughput -T 8 --redis
set -euo pipefail
cd "$(dirname "$0")/.."
old="$1"; shift
new="."
if [ $# -gt 0 ] && [ -e "$1/config/asgi.py" ]; then new="$1"; shift; fi
out="data/bench/compare-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
for round in $(seq "${ROUNDS:-2}"); do
  for tree in "$old" "$new"; do
    label=$([ "$tree" = "$old" ] && echo old || echo new)
    echo "==> round $round: $label ($tree)"
    .venv/bin/python bench/room_bench.py --target ours --app-root "$tree" --jsonl "$out/$label.jsonl" "$@" | tail -3
  done
done
.venv/bin/python - "$out" <<'PY'
import json, sys, statistics
from pathlib import Path
out = Path(sys.argv[1])
rows = {}
for label in ("old", "new"):
    cells = [json.loads(line) for line in (out / f"{label}.jsonl").read_text().splitlines() if line.strip()]
    rows[label] = cells
def mean(cells, key):
    vals = [c[key] for c in cells if c.get(key) is not None]
    return statistics.mean(vals) if vals else float("nan")
print(f"\n{'tree':4} {'msg/s':>8} {'dlv/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'lost':>5}")
for label, cells in rows.items():
    print(f"{label:4} {mean(cells,'msgs_per_s'):8.1f} {mean(cells,'deliveries_per_s'):9.0f} {mean(cells,'p50_ms'):7.0f} {mean(cells,'p99_ms'):7.0f} {sum(c.get('lost',0) for c in cells):5}")
o, n = mean(rows["old"], "deliveries_per_s"), mean(rows["new"], "deliveries_per_s")
print(f"new/old deliveries: {n / o:.2f}")
PY
