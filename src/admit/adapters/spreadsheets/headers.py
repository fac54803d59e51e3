"""Column headers in English, German and French, mapped to Admit's canonical fields.

Headers are compared after :func:`header_key`: diacritics stripped, case folded, and everything that is
not a letter or digit dropped, so ``"E-Mail"``, ``"e_mail"``, ``"EMAIL "`` and ``"Prénom"`` / ``"prenom"``
are the same. A synonym must not mean two fields (the table below is checked when it is loaded).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from admit.adapters.spreadsheets.errors import ImportFileError

FIELDS: tuple[str, ...] = (
    "email",
    "username",
    "phone",
    "external_id",
    "first_name",
    "last_name",
    "department",
    "job_profile",
    "role",
    "language",
    "initial_password",
    "licence",
)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "Email", "E-mail", "Email address", "E-mail address", "Mail", "Mail address",  # English
        "E-Mail-Adresse", "Mailadresse", "Mail-Adresse",  # German
        "Courriel", "Adresse e-mail", "Adresse email", "Adresse mail", "Adresse électronique",
        "Adresse courriel", "Mél",  # French
    ),
    "username": (
        "Username", "User name", "User", "Login", "Login name",
        "Benutzername", "Benutzer", "Anmeldename", "Login-Name",
        "Nom d'utilisateur", "Identifiant", "Utilisateur", "Identifiant de connexion",
    ),
    "phone": (
        "Phone", "Phone number", "Telephone", "Telephone number", "Mobile", "Mobile phone", "Mobile number", "Cell",
        "Cell phone",
        "Telefon", "Telefonnummer", "Handy", "Handynummer", "Mobiltelefon", "Mobilnummer", "Mobilfunknummer",
        "Téléphone", "Numéro de téléphone", "Portable", "Téléphone portable", "Numéro de portable",
    ),
    "external_id": (
        "External ID", "External identifier", "Employee ID", "Employee number", "Staff ID", "Personnel number",
        "Externe ID", "Externe Kennung", "Personalnummer", "Mitarbeiternummer", "Mitarbeiter-ID",
        "ID externe", "Identifiant externe", "Matricule", "Numéro d'employé", "Numéro de salarié",
    ),
    "first_name": (
        "First name", "Firstname", "Given name", "Forename",
        "Vorname",
        "Prénom",
    ),
    "last_name": (
        "Last name", "Lastname", "Surname", "Family name",
        "Nachname", "Familienname", "Zuname",
        "Nom", "Nom de famille",
    ),
    "department": (
        "Department", "Dept", "Division",
        "Abteilung", "Bereich",
        "Service", "Département",
    ),
    "job_profile": (
        "Job profile", "Profile", "Job role",
        "Jobprofil", "Stellenprofil", "Berufsprofil", "Profil",
        "Profil de poste", "Profil métier", "Profil d'emploi",
    ),
    "role": (
        "Permission type", "Permission", "Permissions", "Role", "Access level",
        "Rolle", "Berechtigung", "Berechtigungstyp", "Berechtigungsart", "Zugriffsrecht",
        "Rôle", "Type d'autorisation", "Autorisation", "Type de permission", "Droits", "Niveau d'accès",
    ),
    "language": (
        "Language", "Locale",
        "Sprache",
        "Langue",
    ),
    "initial_password": (
        "Initial password", "One-time password", "Password", "Temporary password", "Start password",
        "Initiales Passwort", "Initialpasswort", "Einmalpasswort", "Startpasswort", "Passwort", "Kennwort",
        "Mot de passe initial", "Mot de passe à usage unique", "Mot de passe", "Mot de passe temporaire",
    ),
    "licence": (
        "Licence", "License", "Licence type", "License type", "Seat",
        "Lizenz", "Lizenztyp", "Lizenzart",
        "Type de licence",
    ),
}  # fmt: skip


def header_key(header: str) -> str:
    """What two headers must share to mean the same column: letters and digits, no accents, case folded."""
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))


def _index(synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for field, names in synonyms.items():
        for name in (field, *names):
            key = header_key(name)
            if index.setdefault(key, field) != field:
                raise ValueError(f"header {name!r} would mean both {index[key]!r} and {field!r}")
    return index


_FIELD_OF = _index(SYNONYMS)


def canonical_field(header: str) -> str | None:
    """The canonical field a header means (``"Adresse e-mail"`` -> ``"email"``), or None."""
    key = header_key(header)
    return _FIELD_OF.get(key) if key else None


def map_headers(headers: Sequence[str], *, row: int = 1) -> tuple[dict[str, int], list[str]]:
    """Canonical field -> column index, and the non-empty headers nobody recognises (as written).

    ``row`` is where the headers are (for messages). Raises ``duplicate_header`` when two columns mean the
    same field and ``no_header`` when none is known.
    """
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        field = canonical_field(header)
        if field is None:
            if header:
                ignored.append(header)
        elif field in columns:
            first = headers[columns[field]]
            raise ImportFileError(
                f'repeats column "{first}" (both mean {field.replace("_", " ")}); keep only one of them',
                row=row,
                column=header,
                code="duplicate_header",
            )
        else:
            columns[field] = index
    if not columns:
        shown = ", ".join(f'"{header}"' for header in headers if header) or "nothing"
        raise ImportFileError(
            f"the first row must name the columns (e.g. Email, First name, Last name); it has {shown}",
            row=row,
            code="no_header",
        )
    return columns, ignored
