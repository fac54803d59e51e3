"""Access-code benchmark: redeeming 1,000 codes, and a 5,000-card code sheet (PDF) against making
the same 5,000 QR codes with segno alone, in memory, in the same run.

    .venv/bin/python bench/codes.py [--cards 5000] [--codes 1000]

The sheet part needs no database: it builds 5,000 cards (a name with accents, the workspace, a
20-character grouped code, the redeem URL with the code in it), times
``admit.adapters.printing.sheets.code_sheet`` on them (fonts, 625 A4 pages, every QR code drawn,
the PDF written and compressed), checks the PDF's page count with pypdf, and then times
``segno.make_qr`` on the same 5,000 URLs with the same error correction (the QR codes alone, as
objects in memory: no drawing, no file). Both are CPU time of this process (``time.process_time``),
so other work on the machine does not count. The last line is ``pdf_to_qr_ratio: X``, the sheet's
time over the QR codes' time; the target is at most 3.

The redeem part (``redeem_codes``) runs first, on a temporary SQLite database, and prints
``codes_per_second`` with the cheapest Argon2id parameters (development mode's); see its docstring.
"""

from __future__ import annotations

import argparse
import io
import secrets
import sys
import time
from pathlib import Path

import segno

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from admit.adapters.printing import qr  # noqa: E402
from admit.adapters.printing.sheets import CARDS_PER_PAGE, Card, code_sheet  # noqa: E402

CHEAP_MEMORY_KIB = 1024  # with time cost 1: the cheapest Argon2id parameters (dev mode only)
PASSWORD = "lantern-orchard-pebble-58"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
FIRST = ["Ana", "José", "Zoë", "Łukasz", "Søren", "Ayşe", "Nguyễn", "François", "Björn", "Inès"]
LAST = ["Lima", "Müller", "Østergaard", "Kowalczyk", "Dubois", "Yılmaz", "García Márquez", "O'Brien"]


def fake_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def cards(count: int) -> list[Card]:
    result = []
    for number in range(count):
        code = fake_code()
        name = f"{FIRST[number % len(FIRST)]} {LAST[number % len(LAST)]} {number}"
        result.append(Card(name, "Harbour Bakery – Night shift", code, f"https://admit.example.com/code?code={code}"))
    return result


def redeem_codes(count: int) -> float | None:
    """Redeemed access codes per second, in this process, on a temporary SQLite database.

    The database is made by the migrations (``admit db upgrade``'s ``upgrade``); an organization,
    a workspace and ``count`` members without email (first and last name, external ID) are
    created through the services, and one code each is issued with
    ``access_codes.issue_for_selection`` (in selections of at most 500, as every door allows).
    Then every code is redeemed through the redeem flow (``flows.invitation.codes.redeem``: the
    throttle checks, the lookup and constant-time comparison, the password policy, the username
    chosen, the account, the member active, the code consumed, a session), one after another from
    one client address, timed by the wall clock and by this process's CPU. The password is hashed
    with the cheapest Argon2id parameters development mode allows (time cost 1, 1 MiB), and the
    CPU of one such hash, measured here, is subtracted for ``codes_per_second_excluding_hash``.
    Returns ``codes_per_second`` (wall clock, the hash included)."""
    import tempfile

    from admit.adapters.identity.hashing import Argon2Hasher
    from admit.adapters.persistence.database import make_engine
    from admit.adapters.persistence.migrate import upgrade
    from admit.admin import access_codes, members, tenancy
    from admit.admin.profiles import MemberInput
    from admit.bootstrap import SystemClock, SystemRandom, make_uow_factory
    from admit.flows.invitation import codes as redeeming
    from admit.shared.context import Actor, Context

    hasher = Argon2Hasher(time_cost=1, memory_cost=CHEAP_MEMORY_KIB)
    with tempfile.TemporaryDirectory(prefix="admit-bench-codes-") as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        try:
            ctx = Context(
                uow=make_uow_factory(engine),
                clock=SystemClock(),
                random=SystemRandom(),
                hasher=hasher,
                base_url="https://admit.example.com",
            )
            operator = Actor.operator("bench")
            org = tenancy.create_organization(ctx, operator, "Bench", plan="business", seats=1_000_000)
            ws = tenancy.create_workspace(ctx, operator, org.id, "Harbour Bakery – Night shift")
            ids = []
            for number in range(count):
                given = MemberInput(
                    first_name=FIRST[number % len(FIRST)], last_name=LAST[number % len(LAST)],
                    external_id=f"E-{number:06d}",
                )  # fmt: skip
                created, _ = members.provision(ctx, operator, ws.id, given, invite=False)
                ids.append(str(created.id))
            issued = []
            for start in range(0, count, access_codes.MAX_SELECTION):
                chunk = ids[start : start + access_codes.MAX_SELECTION]
                issued += access_codes.issue_for_selection(ctx, operator, ws.id, chunk)
            hash_ms = hash_cpu_ms(hasher)
            wall, cpu = time.perf_counter(), time.process_time()
            for number, item in enumerate(issued):
                redeeming.redeem(
                    ctx, item.code, password=PASSWORD, username=f"bench.{number}", client_address="198.51.100.7"
                )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            engine.dispose()
    per_second = count / wall
    print(f"codes_redeemed: {count} (SQLite, in-process, one after another)")
    print(f"argon2id: time_cost=1, memory_kib={CHEAP_MEMORY_KIB} (the cheapest parameters dev mode allows)")
    print(f"argon2id_hash_cpu_ms: {hash_ms:.3f}")
    print(f"redeem_seconds: {wall:.2f}")
    print(f"redeem_cpu_ms_per_code: {1000 * cpu / count:.3f}")
    print(f"codes_per_second: {per_second:.0f}")
    print(f"codes_per_second_excluding_hash: {count / max(cpu - count * hash_ms / 1000, 1e-9):.0f}")
    return per_second


def hash_cpu_ms(hasher: object, rounds: int = 20) -> float:
    """CPU milliseconds of one Argon2id hash of the password (what a redemption spends on it)."""
    started = time.process_time()
    for _ in range(rounds):
        hasher.hash(PASSWORD)  # type: ignore[attr-defined]
    return 1000 * (time.process_time() - started) / rounds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=5_000, help="cards on the sheet, and QR codes made alone")
    parser.add_argument("--codes", type=int, default=1_000, help="access codes to redeem")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    redeem_codes(args.codes)

    sheet_cards = cards(args.cards)
    urls = [card.url for card in sheet_cards]
    code_sheet(sheet_cards[:CARDS_PER_PAGE])  # warm-up: imports, first font parse
    for url in urls[:50]:
        segno.make_qr(url, error=qr.ERROR, boost_error=True)

    started = time.process_time()
    pdf = code_sheet(sheet_cards, title="Harbour Bakery: access codes")
    pdf_seconds = time.process_time() - started

    started = time.process_time()
    for url in urls:
        segno.make_qr(url, error=qr.ERROR, boost_error=True)
    qr_seconds = time.process_time() - started

    pages = -(-args.cards // CARDS_PER_PAGE)
    try:
        from pypdf import PdfReader
    except ImportError:
        checked = "not checked (pypdf is a test dependency)"
    else:
        found = len(PdfReader(io.BytesIO(pdf)).pages)
        if found != pages:
            print(f"error: the sheet has {found} pages, expected {pages}", file=sys.stderr)
            return 1
        checked = "checked with pypdf"

    print(f"cards: {args.cards}")
    print(f"pages: {pages} ({checked})")
    print(f"pdf_megabytes: {len(pdf) / 1e6:.1f}")
    print(f"pdf_seconds: {pdf_seconds:.2f}")
    print(f"seconds_per_1000_cards: {1000 * pdf_seconds / args.cards:.2f}")
    print(f"qr_codes_alone_seconds: {qr_seconds:.2f}")
    print(f"pdf_to_qr_ratio: {pdf_seconds / qr_seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
