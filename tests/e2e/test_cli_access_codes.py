"""``admit code …`` from the shell, on both databases: a member without email gets a code (printed
once, with the redeem URL), shows its state, is withdrawn, and a CSV of fresh codes is written to
a new file, as is a printable PDF sheet (names, codes, QR codes read back); refusals are one
clear line."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.pdfs import qr_codes, read, text_of
from support.processes import admit, field


def test_operator_issues_shows_withdraws_and_exports_codes(database_url: str, tmp_path: Path) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    updated = admit(database_url, "workspace", "update", ws, "--code-lifetime-days", "7").stdout
    assert field(updated, "access_code_lifetime_days") == "7"
    too_long = admit(database_url, "workspace", "update", ws, "--code-lifetime-days", "91", check=False)
    assert too_long.returncode == 1 and "access_code_lifetime_days" in too_long.stderr
    added = admit(
        database_url, "member", "add", ws, "--first-name", "Ana", "--last-name", "Silva", "--external-id", "E-7",
        "--no-invite",
    ).stdout  # fmt: skip
    member = field(added, "id")
    issued = admit(database_url, "code", "issue", member).stdout
    code = field(issued, "code")
    assert re.fullmatch(r"([2-9A-HJKMNP-TV-Z]{4}-){3}[2-9A-HJKMNP-TV-Z]{4}", code)
    assert field(issued, "url").endswith(f"/code?c={code}")
    assert field(issued, "expires_at").startswith(str((datetime.now(UTC) + timedelta(days=7)).date()))
    assert field(admit(database_url, "code", "show", member).stdout, "state") == "live"
    assert code not in admit(database_url, "code", "show", member).stdout
    assert field(admit(database_url, "code", "withdraw", member).stdout, "state") == "withdrawn"
    again = admit(database_url, "code", "withdraw", member, check=False)
    assert again.returncode == 1 and "no_live_code" in again.stderr and "Traceback" not in again.stderr
    out = tmp_path / "codes.csv"
    assert "Wrote 1 access code(s)" in admit(database_url, "code", "csv", ws, member, "--output", str(out)).stdout
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert [r["member_id"] for r in rows] == [member] and rows[0]["first_name"] == "Ana"
    assert rows[0]["code"] != code and rows[0]["url"].endswith(rows[0]["code"])
    refused = admit(database_url, "code", "csv", ws, member, "--output", str(out), check=False)
    assert refused.returncode != 0 and "exists" in refused.stderr + refused.stdout
    unknown = admit(database_url, "code", "issue", "nope", check=False)
    assert unknown.returncode == 1 and "not_found" in unknown.stderr


def test_operator_prints_a_sheet_of_codes(database_url: str, tmp_path: Path) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    people = [
        field(admit(database_url, "member", "add", ws, "--first-name", first, "--last-name", "Silva",
                    "--external-id", f"E-{n}", "--no-invite").stdout, "id")
        for n, first in enumerate(("Ana", "Ben"))
    ]  # fmt: skip
    out = tmp_path / "codes.pdf"
    wrote = admit(database_url, "code", "sheet", ws, *people, "--output", str(out), "--language", "fr").stdout
    assert "Wrote 2 access code card(s)" in wrote and oct(out.stat().st_mode & 0o777) == "0o600"
    pdf = out.read_bytes()
    text = text_of(pdf)
    assert "Ana Silva" in text and "Ben Silva" in text and "Vandelay Imports" in text and "Code d'accès" in text
    urls = qr_codes(read(pdf).pages[0])
    assert len(urls) == 2 and all(
        re.search(r"/code\?c=([2-9A-HJKMNP-TV-Z]{4}-){3}[2-9A-HJKMNP-TV-Z]{4}$", u) for u in urls
    )
    assert all(u.rsplit("=", 1)[1] in text for u in urls)
    assert field(admit(database_url, "code", "show", people[0]).stdout, "state") == "live"
    again = admit(database_url, "code", "sheet", ws, people[0], "--output", str(out), check=False)
    assert again.returncode != 0 and "exists" in again.stderr + again.stdout
    other = admit(database_url, "code", "sheet", ws, people[0], "--output", str(tmp_path / "x.pdf"),
                  "--language", "xx", check=False)  # fmt: skip
    assert other.returncode != 0 and "en, de or fr" in other.stderr + other.stdout
    unknown = admit(database_url, "code", "sheet", ws, "nope", "--output", str(tmp_path / "y.pdf"), check=False)
    assert unknown.returncode == 1 and "not_found" in unknown.stderr and not (tmp_path / "y.pdf").exists()
