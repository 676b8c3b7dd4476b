#!/usr/bin/env bash
# The whole comparison in one run: ours and the bare Channels room side by side,
# for 10, 100 and 500 clients, on the in-memory layer (one Daphne process each) and
# on Redis (two Daphne processes each), at 20 messages/s and at full throughput.
# About 8-10 minutes on a 2-core machine with the default T=10 s per cell.
#
#   bench/run_all.sh                      # SQLite for ours in both modes
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/run_all.sh
#                                         # ours on PostgreSQL (database ic_bench) in the Redis mode
#   T=5 bench/run_all.sh --clients 10,100 # shorter; any room_bench.py option can follow
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/room_bench.py --matrix --duration "${T:-10}" "$@"
