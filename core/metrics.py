"""Counters and gauges for the Prometheus metrics endpoint (``/metrics`` when
METRICS_ENABLED=true).  Each Daphne process keeps its own; scrape each process
(docs/operations.md).  Labels carry frame types, verdicts and error codes only:
never a member, a circle name or a text."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from . import health

REGISTRY = CollectorRegistry(auto_describe=True)

SOCKETS = Gauge("ic_sockets_open", "WebSockets open on this process", ["kind"], registry=REGISTRY)
FRAMES = Counter("ic_frames_total", "Client frames received, by type", ["type"], registry=REGISTRY)
SENDS = Counter("ic_sends_total", "Sends answered, by what the author was told", ["verdict"], registry=REGISTRY)
ERRORS = Counter("ic_errors_total", "Error frames sent, by code", ["code"], registry=REGISTRY)
BATCH = Histogram(
    "ic_send_batch_size", "Sends stored per transaction", buckets=(1, 2, 4, 8, 16, 32, 64), registry=REGISTRY
)
SCREENED = Counter("ic_screening_total", "Texts screened, by verdict", ["verdict"], registry=REGISTRY)
DEPENDENCY_UP = Gauge(
    "ic_dependency_up", "1 when the dependency answers, 0 while it fails", ["name"], registry=REGISTRY
)


def refresh_dependencies() -> None:
    """Copy core.health's view of each dependency into the gauge (at scrape time)."""
    for name, state in health.snapshot().items():
        DEPENDENCY_UP.labels(name).set(1 if state["up"] else 0)
