#!/usr/bin/env bash
# Spread load: 100 circles × 10 members, every member sending, ours and the bare
# Channels room (one group per circle) side by side, on the in-memory layer (one
# Daphne process each, SQLite for ours) and on Redis (two Daphne processes each;
# bare twice there: on the tutorial's RedisChannelLayer and, as bare-pubsub, on
# the pub/sub layer ours uses).
# Two modes: 100 msg/s in all (1 per circle, each member every 10 s) and
# saturated (each of the 1000 senders keeps one message in flight).  Every
# delivery is checked against the body acknowledged for its id (blank, wrong,
# missing, dup), and ours' stored messages are read back after each cell.
# About 6 minutes on a 2-core machine with the default T=15 s per cell.
#
#   bench/run_spread.sh                   # SQLite for ours in both modes
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/run_spread.sh
#                                         # ours on PostgreSQL (database ic_bench_spread) in the Redis mode
#   T=60 bench/run_spread.sh --layers mem --target ours   # any room_bench.py option can follow
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/room_bench.py --matrix --target ours,bare,bare-pubsub --circles 100 --clients 10 --senders 10 --rate 100 \
  --window 1 --pg-db ic_bench_spread --duration "${T:-15}" "$@"
