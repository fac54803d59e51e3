"""Benchmark: the mixed workload against 1 and then 2 server processes on one PostgreSQL.

Starts a throwaway PostgreSQL cluster (its own temporary directory and a free port on 127.0.0.1,
stopped at the end even after an error). For each of ``admit serve --workers 1`` and
``--workers 2`` (each with one ``admit worker`` delivering the outbox) it makes a fresh database,
migrates it and seeds it with the CLI (an organization, a workspace, an admin API token, a SCIM
token), sets up untimed the invitations to accept and the accounts that sign in, warms up, waits
for the outbox to drain, and then sends the same number of operations of the mixed workload
(bench/workload.py: invitations, accepts with a password at the real Argon2id cost, password
sign-ins, directory pages, SCIM creates) from a client in a process of its own (``--clients``
threads, each with a keep-alive connection).

For each run it prints operations per second, p50/p99 latency, and per operation: the server's
CPU (every process of ``admit serve``), the worker's, PostgreSQL's (every process of the
cluster), the client's, PostgreSQL's transactions (``pg_stat_database``) and WAL bytes
(``pg_current_wal_lsn``); then the scaling factor.

    .venv/bin/python bench/scale.py [--ops 3000] [--clients 8] [--mix invite=4,accept=1,...]
    .venv/bin/python bench/scale.py --seconds 60      # a fixed duration instead of a count

The last line is ``scaling_1_to_2: X`` (operations per second with 2 processes ÷ with 1).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))

from api import server_cpu
from workload import (
    DEFAULT_MIX,
    ClientProcess,
    Cluster,
    Outcome,
    Plan,
    accepts_needed,
    database_stats,
    deployment,
    drain,
    parse_mix,
    percentile,
    postgres_cluster,
    prepare,
    seed,
    server_log_tail,
    wal_bytes,
)

WARMUP_OPS = 200
ACCEPTS_PER_SECOND_AT_MOST = 40  # for --seconds: invitations set up to accept (Argon2id bounds it)


@dataclass(frozen=True)
class Measured:
    workers: int
    outcome: Outcome
    server_cpu: float
    worker_cpu: float
    postgres_cpu: float
    client_cpu: float
    machine_busy: float  # CPU seconds the whole machine spent over the run (every process)
    transactions: int
    wal: int

    @property
    def ops(self) -> int:
        return self.outcome.operations

    def per_op_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.ops

    @property
    def per_second(self) -> float:
        return self.ops / self.outcome.seconds


def busy_cpu() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def run_once(
    cluster: Cluster, directory: Path, client: ClientProcess, workers: int, args: argparse.Namespace
) -> Measured:
    mix = parse_mix(args.mix)
    label = f"w{workers}"
    env, tenant = seed(cluster, f"admit_w{workers}", directory)
    if args.seconds:
        timed_accepts = math.ceil(args.seconds * ACCEPTS_PER_SECOND_AT_MOST * mix.get("accept", 0) / sum(mix.values()))
    else:
        timed_accepts = accepts_needed(mix, args.ops)
    warm_accepts = accepts_needed(mix, WARMUP_OPS)
    with deployment(env, directory, workers) as deployed:
        try:
            tokens, emails = prepare(client, deployed.port, tenant, label, warm_accepts + timed_accepts, args.clients)
            warm = Plan(
                deployed.port, tenant, mix, f"{label}-warm", args.clients, ops=WARMUP_OPS,
                accept_tokens=tokens[:warm_accepts], sign_in_emails=emails,
            )  # fmt: skip
            if (done := client.run(warm)).failures:
                raise RuntimeError(f"the warm-up failed: {done.failures}, e.g. {done.samples}")
            drain(tenant.database_url, deployed.worker)  # start with an empty outbox
            plan = Plan(
                deployed.port, tenant, mix, f"{label}-run", args.clients, ops=0 if args.seconds else args.ops,
                seconds=args.seconds or 0.0, accept_tokens=tokens[warm_accepts:], sign_in_emails=emails,
            )  # fmt: skip
            client_pid = client.pid()
            stats = database_stats(tenant.database_url)
            before = (
                deployed.server_cpu(), deployed.worker_cpu(), cluster.cpu(), server_cpu(client_pid), busy_cpu()
            )  # fmt: skip
            outcome = client.run(plan)
            after = (
                deployed.server_cpu(), deployed.worker_cpu(), cluster.cpu(), server_cpu(client_pid), busy_cpu()
            )  # fmt: skip
            time.sleep(1.1)  # PostgreSQL publishes a backend's counters at most once a second
            stats_after = database_stats(tenant.database_url)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\nserver log:\n{server_log_tail(directory, workers)}") from exc
    server, worker, postgres, client_cpu, machine = (b - a for a, b in zip(before, after, strict=True))
    return Measured(
        workers,
        outcome,
        server_cpu=server,
        worker_cpu=worker,
        postgres_cpu=postgres,
        client_cpu=client_cpu,
        machine_busy=machine,
        transactions=stats_after.transactions - stats.transactions,
        wal=wal_bytes(tenant.database_url, stats.wal_lsn, stats_after.wal_lsn),
    )


def report(run: Measured) -> None:
    o = run.outcome
    everything = o.all_latencies()
    w = run.workers
    print(f"workers_{w}:")
    print(f"  operations: {run.ops} in {o.seconds:.2f} s  (failures: {o.failures})")
    counts = "  ".join(f"{kind} {len(values)}" for kind, values in o.latencies.items() if values)
    print(f"  mix: {counts}")
    print(f"  ops_per_second: {run.per_second:.1f}")
    print(f"  p50_ms: {1000 * percentile(everything, 0.50):.1f}  p99_ms: {1000 * percentile(everything, 0.99):.1f}")
    by_kind = "  ".join(
        f"{kind} {1000 * percentile(sorted(values), 0.5):.0f}/{1000 * percentile(sorted(values), 0.99):.0f}"
        for kind, values in o.latencies.items()
        if values
    )
    print(f"  p50/p99_ms_by_kind: {by_kind}")
    print(f"  server_cpu_ms_per_op: {run.per_op_ms(run.server_cpu):.2f}")
    print(f"  worker_cpu_ms_per_op: {run.per_op_ms(run.worker_cpu):.2f}")
    print(f"  postgres_cpu_ms_per_op: {run.per_op_ms(run.postgres_cpu):.2f}")
    print(f"  client_cpu_ms_per_op: {run.per_op_ms(run.client_cpu):.2f}")
    others = run.machine_busy - run.server_cpu - run.worker_cpu - run.postgres_cpu - run.client_cpu
    print(
        f"  cores_busy: server {run.server_cpu / o.seconds:.2f}  worker {run.worker_cpu / o.seconds:.2f}"
        f"  postgres {run.postgres_cpu / o.seconds:.2f}  client {run.client_cpu / o.seconds:.2f}"
        f"  everything_else_on_the_machine {max(0.0, others) / o.seconds:.2f}  (of {psutil.cpu_count()})"
    )
    print(f"  postgres_transactions_per_op: {run.transactions / run.ops:.2f}")
    print(f"  wal_bytes_per_op: {run.wal / run.ops:.0f}")
    if o.ran_out_of_tokens:
        print("  note: the run ended early: it used every invitation set up to accept")
    for sample in o.samples:
        print(f"  failure: {sample}", file=sys.stderr)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=3000, help="operations in each timed run (default 3000)")
    parser.add_argument("--seconds", type=float, default=0.0, help="a timed run this long instead of --ops")
    parser.add_argument("--clients", type=int, default=8, help="client threads (keep-alive connections)")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"operation weights per cycle (default {DEFAULT_MIX})")
    parser.add_argument("--no-fsync", action="store_true", help="PostgreSQL with fsync and synchronous_commit off")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    parse_mix(args.mix)
    directory = Path(tempfile.mkdtemp(prefix="admit-bench-scale-"))
    client = ClientProcess()
    try:
        with postgres_cluster(fsync=not args.no_fsync) as cluster:
            print(f"cores: {psutil.cpu_count()}  clients: {args.clients}  mix: {args.mix}")
            print(f"postgresql: port {cluster.port}, fsync {'off' if args.no_fsync else 'on'}")
            runs = []
            for workers in (1, 2):
                runs.append(run_once(cluster, directory, client, workers, args))
                report(runs[-1])
        failures = sum(run.outcome.failures for run in runs)
        print(f"failures: {failures}")
        print(f"scaling_1_to_2: {runs[1].per_second / runs[0].per_second:.2f}")
        return 1 if failures else 0
    except RuntimeError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
