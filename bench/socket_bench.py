#!/usr/bin/env python
"""How many sockets one Daphne process holds: idle members and a trickle.

For each N (--members), a fresh Daphne process (``python -m config.daphne``, as
scripts/serve runs it) on a throwaway database; N members connect to circles of
--per-circle members each and stay idle; then a trickle of messages (--rate a
second in all, to circles at random) for --duration seconds.  Measured per N:
the process's RSS before and after the sockets (and the cost of one socket),
its CPU while idle and during the trickle, the time to connect everyone, and
the delivery latency of the trickle (sent -> received by every member of the
circle, one clock, this process).

    .venv/bin/python bench/socket_bench.py                       # 500,1000,2000 members
    .venv/bin/python bench/socket_bench.py --members 1000 --duration 10
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
      .venv/bin/python bench/socket_bench.py --redis             # PostgreSQL (ic_bench_sockets) + Redis

Loopback only; bounded (connect deadline, --duration, an alarm on the whole
run); the Daphne child dies with this process; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.room_bench import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    OursFixture,
    _die_with_parent,
    clean_redis,
    free_port,
    proc_cpu_seconds,
)

TOKEN = re.compile(r"tk([a-z]{10})kt")  # the trickle's marker in a message's html


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_daphne(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Daphne exited; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"Daphne did not start; see {log_path}")


async def run_cell(n: int, port: int, cookies: list[str], rooms: list[tuple[str, int]], args, pid: int) -> dict:
    import websockets

    per = args.per_circle
    sockets: list = [None] * n
    received: dict[str, list[float]] = {}  # client_id -> receive times
    sent_at: dict[str, float] = {}
    errors = {"connect": 0}
    verdicts: dict[str, int] = {}

    async def reader(k: int, ws) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "ack":
                    verdicts[frame["verdict"]] = verdicts.get(frame["verdict"], 0) + 1
                items = frame.get("items") or ([frame] if frame.get("type") == "message" else [])
                now = time.monotonic()
                for item in items:
                    text = item["message"].get("html", "")
                    found = TOKEN.search(text)
                    token = found.group(1) if found else None
                    if token is not None and token in sent_at:
                        received.setdefault(token, []).append(now - sent_at[token])
        except websockets.ConnectionClosed:
            pass

    async def connect(k: int) -> None:
        slug = rooms[k // per][0]
        try:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/circles/{slug}/",
                origin=f"http://127.0.0.1:{port}",
                additional_headers={"Cookie": f"sessionid={cookies[k]}"},
                open_timeout=60,
                max_size=2**22,
            )
        except Exception:
            errors["connect"] += 1
            return
        sockets[k] = ws

    rss_start = rss_kib(pid)
    t0 = time.monotonic()
    for start in range(0, n, 50):  # 50 handshakes at a time, as a session start would bring them
        await asyncio.wait_for(asyncio.gather(*(connect(k) for k in range(start, min(n, start + 50)))), 120)
    connect_s = time.monotonic() - t0
    open_socks = [(k, ws) for k, ws in enumerate(sockets) if ws is not None]
    readers = [asyncio.ensure_future(reader(k, ws)) for k, ws in open_socks]
    await asyncio.sleep(5)  # hellos read, presence settled
    rss_idle = rss_kib(pid)
    cpu0, w0 = proc_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(args.idle)
    idle_cpu = (proc_cpu_seconds(pid) - cpu0) / (time.monotonic() - w0)

    rng = random.Random(n)
    cpu0, w0 = proc_cpu_seconds(pid), time.monotonic()
    count = int(args.rate * args.duration)
    for i in range(count):
        room = rng.randrange(-(-n // per))  # the circles this cell filled
        k = room * per + rng.randrange(min(per, n - room * per))
        ws = sockets[k]
        if ws is None:
            continue
        token = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))  # letters: no rule rewrites them
        sent_at[token] = time.monotonic()
        await ws.send(json.dumps({"type": "send", "client_id": f"t-{i}", "body": f"a quiet note tk{token}kt"}))
        await asyncio.sleep(max(0.0, w0 + (i + 1) / args.rate - time.monotonic()))
    await asyncio.sleep(3)  # the last deliveries
    trickle_cpu = (proc_cpu_seconds(pid) - cpu0) / (time.monotonic() - w0)
    rss_trickle = rss_kib(pid)
    latencies = sorted(t for times in received.values() for t in times)
    expected = sum(verdicts.get(v, 0) for v in ("published", "flagged", "redacted", "crisis")) * per
    for _k, ws in open_socks:
        await ws.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)

    def pct(q: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000 if latencies else None

    return {
        "members": n,
        "connected": len(open_socks),
        "connect_errors": errors["connect"],
        "connect_s": round(connect_s, 1),
        "rss_start_mib": round(rss_start / 1024, 1),
        "rss_idle_mib": round(rss_idle / 1024, 1),
        "kib_per_socket": round((rss_idle - rss_start) / max(1, len(open_socks)), 1),
        "idle_cpu_pct": round(idle_cpu * 100, 1),
        "trickle_msgs": len(sent_at),
        "verdicts": verdicts,
        "deliveries": f"{len(latencies)}/{expected}",
        "trickle_cpu_pct": round(trickle_cpu * 100, 1),
        "rss_trickle_mib": round(rss_trickle / 1024, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(pct(0.99), 1) if latencies else None,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", default="500,1000,2000", help="idle members per cell (comma-separated)")
    parser.add_argument("--per-circle", type=int, default=50, help="members per circle (default 50)")
    parser.add_argument("--rate", type=float, default=2.0, help="trickle: messages a second in all (default 2)")
    parser.add_argument("-T", "--duration", type=float, default=10.0, help="trickle seconds (default 10)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds measured idle (default 10)")
    parser.add_argument("--redis", action="store_true", help="Redis channel layer (and PostgreSQL with DATABASE_URL)")
    args = parser.parse_args(argv)
    cells = [int(x) for x in args.members.split(",")]
    signal.alarm(int(60 + len(cells) * (240 + args.duration + args.idle)))  # the whole run is bounded

    run_dir = BENCH_DIR / f"sockets-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    layer = "redis" if args.redis else "mem"
    prefix = f"ic-bench-sockets-{secrets.token_hex(4)}"
    fixture = OursFixture(layer, prefix, run_dir, keep_db=False, pg_db="ic_bench_sockets")
    results = []
    try:
        fixture.setup(max(cells))
        rooms = fixture.new_circles(-(-max(cells) // args.per_circle), args.per_circle)
        env = {**fixture.env, "CHAT_RATE_CONNECTS": str(10**9), "CHAT_PRESENCE_DELAY": "0.5"}
        for n in cells:
            proc, port = start_daphne(env, run_dir / f"daphne-{n}.log")
            try:
                time.sleep(3)  # the keyword rules compiled at start
                result = asyncio.run(run_cell(n, port, fixture.cookies, rooms, args, proc.pid))
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            result["layer"] = layer
            results.append(result)
            print(json.dumps(result), flush=True)
            with (run_dir / "results.jsonl").open("a") as out:
                out.write(json.dumps(result) + "\n")
    finally:
        fixture.teardown()
        if args.redis:
            clean_redis(prefix)
    print()
    print("| members | connected in | RSS before → idle | per socket | idle CPU | trickle CPU | p50 / p99 delivery |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['members']} | {r['connect_s']} s | {r['rss_start_mib']} → {r['rss_idle_mib']} MiB "
            f"| {r['kib_per_socket']} KiB | {r['idle_cpu_pct']} % | {r['trickle_cpu_pct']} % "
            f"| {r['p50_ms']} / {r['p99_ms']} ms ({r['deliveries']}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
