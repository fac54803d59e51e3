"""Prometheus metrics (``prometheus-client``), served at ``/metrics``.

Counted as things happen, in every process (with ``PROMETHEUS_MULTIPROC_DIR`` set, each process
writes its own files there and a scrape adds them up: ``admit serve --workers N`` sets it up):

- ``admit_http_requests_total{method,route,status}``: requests by route template (``/api/v1/
  workspaces/{workspace_id}/members``, never a path with ids or tokens) and status;
- ``admit_http_request_duration_seconds{method,route}``: their latency (histogram);
- ``admit_sign_in_failures_total``: wrong identifiers or passwords;
- ``admit_throttled_total{route}``: requests refused with 429 (a throttle or rate limit hit).

Read from the database at each scrape (one process answers; the figures are instance-wide):

- ``admit_outbox_waiting{channel}`` and ``admit_outbox_oldest_age_seconds{channel}``: messages not
  yet sent (queued, sending or to be retried) and how long the oldest has waited;
- ``admit_jobs{kind,state}``, ``admit_job_rows_done{kind,state}`` and ``admit_job_rows{kind,state}``:
  background jobs (imports, bulk invitations) and their progress in rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from admit.shared.context import Context

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("admit_http_requests", "HTTP requests by route template and status.", ["method", "route", "status"])
LATENCY = Histogram(
    "admit_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGN_IN_FAILURES = Counter("admit_sign_in_failures", "Failed sign-ins (wrong identifier or password).")
THROTTLED = Counter("admit_throttled", "Requests refused with 429 (a throttle or rate limit hit).", ["route"])

DOCUMENTED = (
    "admit_http_requests_total",
    "admit_http_request_duration_seconds",
    "admit_sign_in_failures_total",
    "admit_throttled_total",
    "admit_outbox_waiting",
    "admit_outbox_oldest_age_seconds",
    "admit_jobs",
    "admit_job_rows_done",
    "admit_job_rows",
)


class DatabaseCollector(Collector):
    """The outbox backlog and job progress, queried when scraped."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            backlog = uow.operations.outbox_backlog()
            jobs = uow.operations.jobs_by_state()
        waiting = GaugeMetricFamily("admit_outbox_waiting", "Messages not yet sent, by channel.", labels=["channel"])
        age = GaugeMetricFamily(
            "admit_outbox_oldest_age_seconds", "Age of the oldest message not yet sent.", labels=["channel"]
        )
        for row in backlog:
            waiting.add_metric([row.channel], float(row.waiting))
            oldest = row.oldest if row.oldest.tzinfo else row.oldest.replace(tzinfo=now.tzinfo)
            age.add_metric([row.channel], max(0.0, (now - oldest).total_seconds()))
        counts = GaugeMetricFamily("admit_jobs", "Background jobs by kind and state.", labels=["kind", "state"])
        done = GaugeMetricFamily("admit_job_rows_done", "Rows jobs have done.", labels=["kind", "state"])
        total = GaugeMetricFamily("admit_job_rows", "Rows jobs have in all.", labels=["kind", "state"])
        for row in jobs:
            counts.add_metric([row.kind, row.state], float(row.jobs))
            done.add_metric([row.kind, row.state], float(row.done))
            total.add_metric([row.kind, row.state], float(row.total))
        yield from (waiting, age, counts, done, total)


def scrape(ctx: Context) -> bytes:
    """The text exposition: this process's (or, in multi-process mode, every process's) counters
    and the database's figures."""
    if os.environ.get(MULTIPROCESS_DIR):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
        text = generate_latest(counted)
    else:
        text = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector(ctx))
    return text + generate_latest(database)
