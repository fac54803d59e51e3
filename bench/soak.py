"""Soak test: the mixed workload at a fixed rate for many minutes against ``admit serve --workers 2``
and an ``admit worker`` on a throwaway PostgreSQL. Not part of CI.

Starts a throwaway PostgreSQL cluster (stopped at the end even after an error), migrates and
seeds a database with the CLI, starts the processes and warms them up (200 operations). Unless
``--rate`` is given it first finds the highest rate this machine sustains with p99 under 500 ms:
short probes (``--probe-seconds``) at rising rates (or falling ones, if the first does not hold),
then halving twice the step between the last rate that held and the first that
did not; it soaks at ``--margin`` (default 0.8) of that rate: a 20-second probe finds the edge,
and 30 minutes on a shared machine meet bursts of other work a probe did not. It then sets up
(untimed) every invitation the soak will accept, waits for the outbox to drain, and sends the
mixed workload (bench/workload.py) at that rate for ``--minutes`` from a client in a process of
its own; operations are started on schedule and their latency counts from
when they were due, so a server that falls behind shows in the p99.

Every minute it prints: operations, errors (target: none), p99, the resident memory of each server
process and of the worker, and the outbox's age (its oldest message not yet sent, from the
server's own ``/metrics``). At the end: the memory growth of each process after the first minute
(the warm-up; target: flat), the oldest outbox age seen and how many minutes had a p99 of 500 ms
or more (target: none).

    .venv/bin/python bench/soak.py                          # 30 minutes at the rate it finds
    .venv/bin/python bench/soak.py --minutes 3 --rate 20    # short, at a given rate

The last line is ``soak_errors: N``.
"""

from __future__ import annotations

import argparse
import http.client
import math
import shutil
import sys
import tempfile
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from api import HOST
from workload import (
    DEFAULT_MIX,
    ClientProcess,
    Deployment,
    Outcome,
    Plan,
    Tenant,
    accept_tokens,
    accepts_needed,
    deployment,
    drain,
    metric,
    parse_mix,
    percentile,
    postgres_cluster,
    prepare,
    seed,
    server_log_tail,
)

P99_BOUND = 0.5
WARMUP_OPS = 200
MIB = 1024 * 1024


def accepts_for(mix: dict[str, int], rate: float, seconds: float) -> int:
    return math.ceil(rate * seconds * mix.get("accept", 0) / sum(mix.values())) + 2


def p99(outcome: Outcome) -> float:
    return percentile(outcome.all_latencies(), 0.99)


class Soak:
    def __init__(self, client: ClientProcess, deployed: Deployment, tenant: Tenant, args: argparse.Namespace) -> None:
        self.client, self.deployed, self.tenant, self.args = client, deployed, tenant, args
        self.mix = parse_mix(args.mix)
        self.emails: tuple[str, ...] = ()
        self.batches = 0

    def tokens(self, count: int) -> tuple[str, ...]:
        self.batches += 1
        label = f"tok{self.batches}"
        if not self.emails:
            tokens, self.emails = prepare(self.client, self.deployed.port, self.tenant, label, count, self.args.clients)
        else:
            tokens = tuple(accept_tokens(self.client, self.deployed.port, self.tenant, label, count, self.args.clients))
        drain(self.tenant.database_url, self.deployed.worker)  # their emails out of the way first
        return tokens

    def at(self, rate: float, seconds: float, label: str, tokens: tuple[str, ...]) -> Outcome:
        plan = Plan(
            self.deployed.port, self.tenant, self.mix, label, self.args.clients, seconds=seconds, rate=rate,
            accept_tokens=tokens, sign_in_emails=self.emails,
        )  # fmt: skip
        return self.client.run(plan)

    def warm_up(self) -> None:
        """200 operations as fast as they are answered: every process past its first requests."""
        plan = Plan(
            self.deployed.port, self.tenant, self.mix, "warm", self.args.clients, ops=WARMUP_OPS,
            accept_tokens=self.tokens(accepts_needed(self.mix, WARMUP_OPS)), sign_in_emails=self.emails,
        )  # fmt: skip
        if (done := self.client.run(plan)).failures:
            raise RuntimeError(f"the warm-up failed: {done.failures}, e.g. {done.samples}")
        drain(self.tenant.database_url, self.deployed.worker)

    def probe(self, rate: float) -> bool:
        seconds = self.args.probe_seconds
        tokens = self.tokens(accepts_for(self.mix, rate, seconds))
        outcome = self.at(rate, seconds, f"probe{self.batches}", tokens)
        held = outcome.failures == 0 and p99(outcome) < P99_BOUND and not outcome.ran_out_of_tokens
        print(
            f"probe: {rate:.1f} ops/s  p99 {1000 * p99(outcome):.0f} ms  errors {outcome.failures}"
            f"  {'held' if held else 'did not hold'}",
            flush=True,
        )
        for sample in outcome.samples:
            print(f"  failure: {sample}", file=sys.stderr)
        return held

    def find_rate(self) -> float:
        """The highest rate whose probe holds: ×1.5 from ``--start-rate`` until one fails (or ÷1.5
        until one holds), then two halvings of the step between the two."""
        rate = float(self.args.start_rate)
        if self.probe(rate):
            good = rate
            while self.probe(rate := rate * 1.5):
                good = rate
            bad = rate
        else:
            bad = rate
            while not self.probe(rate := rate / 1.5):
                bad = rate
                if rate < 1:
                    raise RuntimeError("no rate down to 1 operation a second held p99 under 500 ms")
            good = rate
        for _ in range(2):
            middle = (good + bad) / 2
            if self.probe(middle):
                good = middle
            else:
                bad = middle
        return good


def rss(process: psutil.Process) -> float:
    try:
        return float(process.memory_info().rss) / MIB
    except psutil.NoSuchProcess:
        return float("nan")


def outbox_age(port: int) -> float:
    """The oldest message not yet sent, in seconds, as the server's /metrics reports it (loopback)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    return metric(text, "admit_outbox_oldest_age_seconds") or 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=30, help="length of the soak (default 30)")
    parser.add_argument("--rate", type=float, default=0.0, help="operations a second (default: the highest found)")
    parser.add_argument("--start-rate", type=float, default=8.0, help="the first probe's rate")
    parser.add_argument("--probe-seconds", type=float, default=20.0, help="length of each probe")
    parser.add_argument(
        "--margin", type=float, default=0.8, help="soak at this share of the highest rate found (default 0.8)"
    )
    parser.add_argument("--clients", type=int, default=32, help="client threads (keep-alive connections)")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"operation weights per cycle (default {DEFAULT_MIX})")
    parser.add_argument("--no-fsync", action="store_true", help="PostgreSQL with fsync and synchronous_commit off")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    mix = parse_mix(args.mix)
    directory = Path(tempfile.mkdtemp(prefix="admit-bench-soak-"))
    client = ClientProcess()
    errors = 0
    try:
        with postgres_cluster(fsync=not args.no_fsync) as cluster:
            env, tenant = seed(cluster, "admit_soak", directory)
            with deployment(env, directory, 2) as deployed:
                try:
                    soak = Soak(client, deployed, tenant, args)
                    soak.warm_up()
                    if args.rate:
                        rate = args.rate
                    else:
                        found = soak.find_rate()
                        rate = found * args.margin
                        print(f"highest_probe_rate: {found:.1f} ops/s  (soaking at {args.margin:g} of it)")
                    print(f"rate: {rate:.1f} ops/s  minutes: {args.minutes}  clients: {args.clients}  mix: {args.mix}")
                    tokens = soak.tokens(accepts_for(mix, rate, 60) * args.minutes)
                    per_minute = len(tokens) // args.minutes
                    processes = {f"server{n + 1}": p for n, p in enumerate(deployed.server_processes())}
                    processes["worker"] = psutil.Process(deployed.worker.pid)
                    memory: list[dict[str, float]] = []
                    ages: list[float] = []
                    slow_minutes = 0
                    for minute in range(1, args.minutes + 1):
                        mine = tokens[(minute - 1) * per_minute : minute * per_minute]
                        outcome = soak.at(rate, 60.0, f"m{minute}", mine)
                        errors += outcome.failures
                        slow_minutes += p99(outcome) >= P99_BOUND
                        memory.append({name: rss(p) for name, p in processes.items()})
                        ages.append(outbox_age(deployed.port))
                        rss_text = "  ".join(f"{name} {mib:.0f}" for name, mib in memory[-1].items())
                        print(
                            f"minute {minute}: ops {outcome.operations}  errors {outcome.failures}"
                            f"  p99_ms {1000 * p99(outcome):.0f}  rss_mib {rss_text}  outbox_age_s {ages[-1]:.1f}",
                            flush=True,
                        )
                        for sample in outcome.samples:
                            print(f"  failure: {sample}", file=sys.stderr)
                except RuntimeError as exc:
                    raise RuntimeError(f"{exc}\nserver log:\n{server_log_tail(directory, 2)}") from exc
        if len(memory) > 1:
            growth = "  ".join(f"{name} {memory[-1][name] - memory[0][name]:+.1f}" for name in memory[0])
            print(f"rss_growth_after_minute_1_mib: {growth}")
        print(f"outbox_age_max_s: {max(ages):.1f}")
        print(f"minutes_with_p99_over_500_ms: {slow_minutes} of {len(ages)}")
        print(f"sustained_rate: {rate:.1f}")
        print(f"soak_errors: {errors}")
        return 1 if errors else 0
    except RuntimeError as exc:
        print(f"soak failed: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
