"""``admit code sheet --import JOB_ID`` and ``admit code csv --import JOB_ID`` from the shell, on
both databases: after ``admit import`` (which says how many people need a code and the command
to print them), the sheet holds exactly the imported people without email or phone, each QR code
opening the redeem page; the CSV makes fresh codes; refusals (a dry run, both a job and members,
an unknown job) are one clear line and write no file."""

from __future__ import annotations

import csv
from pathlib import Path

from support.pdfs import qr_codes, read, text_of
from support.processes import admit, field


def test_operator_prints_the_codes_of_a_whole_import(database_url: str, tmp_path: Path) -> None:
    admit(database_url, "db", "upgrade")
    org = field(admit(database_url, "org", "create", "Vandelay").stdout, "id")
    ws = field(admit(database_url, "workspace", "create", org, "Vandelay Imports").stdout, "id")
    people = tmp_path / "people.csv"
    people.write_text(
        "Email;First name;Last name;External ID\n;Ana;Silva;E-1\n;Ben;Silva;E-2\ncy@example.com;Cy;Mail;E-3\n",
        encoding="utf-8",
    )
    imported = admit(database_url, "import", str(people), "--workspace", ws, "--invite", "later").stdout
    job = imported.split("Job ", 1)[1].split()[0]
    assert "2 of these people have no email or phone to send to" in imported
    assert f"admit code sheet --import {job}" in imported
    out = tmp_path / "codes.pdf"
    wrote = admit(database_url, "code", "sheet", "--import", job, "--output", str(out), "--language", "de").stdout
    assert "Wrote 2 access code card(s)" in wrote and oct(out.stat().st_mode & 0o777) == "0o600"
    pdf = out.read_bytes()
    text = text_of(pdf)
    assert "Ana Silva" in text and "Ben Silva" in text and "Cy Mail" not in text and "Zugangscode" in text
    urls = qr_codes(read(pdf).pages[0])
    assert len(urls) == 2 and all("/code?c=" in u and u.rsplit("=", 1)[1] in text for u in urls)
    table = tmp_path / "codes.csv"
    assert "Wrote 2 access code(s)" in admit(database_url, "code", "csv", "--import", job, "-o", str(table)).stdout
    rows = list(csv.DictReader(table.read_text(encoding="utf-8").splitlines()))
    assert sorted(r["first_name"] for r in rows) == ["Ana", "Ben"]
    assert not {r["url"] for r in rows} & set(urls)  # fresh codes: the sheet's are withdrawn
    both = admit(database_url, "code", "sheet", ws, "x", "--import", job, "-o", str(tmp_path / "a.pdf"), check=False)
    assert both.returncode != 0 and "not both" in both.stderr + both.stdout and not (tmp_path / "a.pdf").exists()
    neither = admit(database_url, "code", "sheet", "-o", str(tmp_path / "b.pdf"), check=False)
    assert neither.returncode != 0 and "--import" in neither.stderr + neither.stdout
    unknown = admit(database_url, "code", "sheet", "--import", "nope", "-o", str(tmp_path / "c.pdf"), check=False)
    assert unknown.returncode == 1 and "not_found" in unknown.stderr and not (tmp_path / "c.pdf").exists()
    dry_out = admit(database_url, "import", str(people), "--workspace", ws, "--invite", "later", "--dry-run").stdout
    dry = dry_out.split("Job ", 1)[1].split()[0]
    refused = admit(database_url, "code", "sheet", "--import", dry, "-o", str(tmp_path / "d.pdf"), check=False)
    assert refused.returncode == 1 and "dry_run" in refused.stderr and "Traceback" not in refused.stderr
