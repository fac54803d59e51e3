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

The redeem part (``redeem_codes``) runs first and prints ``codes_per_second``; see its docstring.
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
    """Redeemed access codes per second, or None (after printing why) where they are not built.

    The seam for the access-code service (``admit.admin.access_codes``, issue 15's "codes" part,
    built in parallel with this benchmark): once it exists, this function should create a
    temporary SQLite database (``admit db upgrade``), an organization, a workspace and ``count``
    members without email, issue one code each through the service, and time redeeming every code
    through the redeem flow (the throttle checks, the code lookup and constant-time comparison,
    the account with a password at the cheapest Argon2 parameters, whose CPU is measured apart and
    subtracted as in ``bench/pages.py``), returning codes per second. Until that wiring is written
    it prints ``n/a`` with the reason and returns None; the sheet part does not depend on it.
    """
    try:
        import admit.admin.access_codes  # noqa: F401
    except ImportError:
        print("codes_per_second: n/a (access codes not built in this tree)")
        return None
    print(f"codes_per_second: n/a (access codes exist, but redeeming {count} is not wired into bench/codes.py yet)")
    return None


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
