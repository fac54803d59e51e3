"""Importing people from a CSV or XLSX file (the fourth and Workplace articles): one-time, never
overwriting anyone — new people are created (invited now, or left awaiting invitation), people
already in the workspace (same email, username or external ID) are skipped, and every bad row is
reported with its row number, column and reason. A dry run reports the same without writing.

The file is checked and counted when the import is asked for; the rows are then processed by a
background job in chunks of ``CHUNK`` rows, each chunk committed with the job's progress."""

from __future__ import annotations

import copy
from typing import Any

from admit.adapters.spreadsheets import Table, read_table, write_csv, write_xlsx
from admit.admin import jobs
from admit.admin.invitations import new_member, open_invitation
from admit.admin.members import activate_with_password, check_initial_password
from admit.admin.profiles import MemberInput
from admit.domain.errors import AlreadyExists, Conflict, DomainError, NotFound, ValidationFailed, WeakPassword
from admit.domain.invitations import invite_now, personal_message
from admit.domain.ports import UnitOfWork
from admit.domain.records import Job, Workspace
from admit.domain.roles import Permission, Role, ensure_can_grant
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import Actor, Context
from admit.shared.messages import channels_for

CHUNK = 500
KEYS = ("email", "username", "external_id")
PROFILE = ("email", "username", "phone", "first_name", "last_name", "external_id", "department", "job_profile")
ROLE_WORDS = {
    "owner": "owner", "eigentümer": "owner", "inhaber": "owner", "propriétaire": "owner",
    "admin": "admin", "administrator": "admin", "administrateur": "admin",
    "member": "member", "user": "member", "mitglied": "member", "benutzer": "member",
    "membre": "member", "utilisateur": "member",
    "guest": "guest", "gast": "guest", "invité": "guest", "invite": "guest",
}  # fmt: skip


def start(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    data: bytes,
    filename: str,
    *,
    invite: str | None,
    dry_run: bool = False,
    message: str | None = None,
) -> jobs.JobView:
    """Check the choices (invite ``now`` or ``later``; the personal message) and the file (readable,
    with a recognisable header and rows), then queue the import."""
    invite_new_people = invite_now(invite)
    message = personal_message(message)
    return jobs.queue_file(
        ctx,
        actor,
        workspace_id,
        Permission.MANAGE_PEOPLE,
        "import",
        data,
        filename,
        lambda table: {
            "invite": invite_new_people,
            "dry_run": dry_run,
            "message": message,
            "columns": sorted(table.columns),
        },
    )


@jobs.handler("import")
def run(ctx: Context, job: Job, progress: jobs.Progress) -> None:
    actor, role = jobs.actor_of(job)
    table = read_table(jobs.upload_of(job), job.filename or "")
    duplicates = {d.row: d for d in table.find_duplicates()}
    with ctx.uow() as uow:
        workspace = uow.workspaces.get(job.organization_id, job.workspace_id)
    assert workspace is not None
    while progress.position < len(table.rows):
        part = table.rows[progress.position : progress.position + CHUNK]
        for attempt in range(3):  # a concurrent writer took a row: the next try skips it
            trial = copy.deepcopy(progress)
            try:
                with jobs.chunk(ctx, job, trial) as uow:
                    _import_rows(ctx, uow, actor, role, workspace, table, part, duplicates, job.options, trial)
                    trial.position += len(part)
                break
            except AlreadyExists:  # a unique-constraint race, as the unit of work reports it
                if attempt == 2:
                    raise
        progress.position, progress.counts, progress.report = trial.position, trial.counts, trial.report


def _import_rows(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    role: Role,
    workspace: Workspace,
    table: Table,
    part: list[Any],
    duplicates: dict[int, Any],
    options: dict[str, Any],
    progress: jobs.Progress,
) -> None:
    candidates = []
    for row in part:
        if row.number in duplicates:
            repeated = duplicates[row.number]
            progress.note(row.number, repeated.message, kind="duplicate", column=repeated.label)
            continue
        try:
            candidates.append((row, *_member_values(ctx, table, row.values, workspace, role, options["invite"])))
        except DomainError as exc:
            progress.note(row.number, exc.message, column=_column(table, exc.field))
    existing = _existing(uow, workspace, [values for _, values, _ in candidates])
    now = ctx.clock.now()
    for row, values, password in candidates:
        taken = next((name for name in KEYS if values.get(name) and (name, values[name]) in existing), None)
        if taken is not None:
            label = _column(table, taken) or taken
            progress.note(row.number, f"already in the workspace (same {label}); left unchanged", kind="skipped")
            continue
        outcome = "activated" if password else "invited" if options["invite"] else "awaiting_invitation"
        if not options.get("dry_run"):
            try:
                _create(ctx, uow, actor, workspace, values, password, options, now)
            except DomainError as exc:
                progress.note(row.number, exc.message, column=_column(table, exc.field))
                continue
        progress.count("created")
        progress.count(outcome)


def _create(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    workspace: Workspace,
    values: dict[str, Any],
    password: str | None,
    options: dict[str, Any],
    now: Any,
) -> None:
    if password is not None:
        activate_with_password(ctx, uow, actor, workspace, values, password, now)
        return
    member = new_member(uow, actor, workspace, values, now, invited=options["invite"])
    if options["invite"]:
        open_invitation(ctx, uow, actor, workspace, member, message=options.get("message"), now=now, counted=False)


def _member_values(
    ctx: Context, table: Table, cells: dict[str, str], workspace: Workspace, role: Role, invite: bool
) -> tuple[dict[str, Any], str | None]:
    """The member a row describes, validated as any other member, or ``DomainError``."""
    profile: dict[str, Any] = {name: cells.get(name) or None for name in PROFILE}
    person = MemberInput(**profile)
    person.language = _language(cells.get("language"))
    person.role = ROLE_WORDS.get((cells.get("role") or "member").strip().casefold(), cells.get("role") or "member")
    person.licence = _licence(cells.get("licence"))
    values = person.cleaned(workspace, ctx.phone_region)
    ensure_can_grant(role, Role(values["role"]))
    password = cells.get("initial_password") or None
    if password is not None:
        try:
            check_initial_password(workspace, values, password)
        except WeakPassword as exc:
            raise ValidationFailed(
                "initial password too weak: " + "; ".join(exc.failures), field="initial_password"
            ) from None
    elif invite:
        try:
            channels_for(workspace, values["email"], values["phone"])
        except Conflict as exc:
            raise ValidationFailed(exc.message, field=exc.field) from None
    return values, password


def _language(value: str | None) -> str | None:
    if not value:
        return None
    word = value.strip().casefold()
    names = {"english": "en", "englisch": "en", "anglais": "en", "german": "de", "deutsch": "de",
             "allemand": "de", "french": "fr", "französisch": "fr", "français": "fr", "francais": "fr"}  # fmt: skip
    return names.get(word, word.split("-")[0].split("_")[0])


LICENCE_WORDS = {
    "licensed": "licensed", "licensed user": "licensed", "licence": "licensed", "license": "licensed",
    "lizenziert": "licensed", "lizenzierter benutzer": "licensed", "sous licence": "licensed",
    "utilisateur sous licence": "licensed",
    "viewer": "viewer", "resource viewer": "viewer", "betrachter": "viewer", "ressourcenbetrachter": "viewer",
    "lecteur": "viewer", "lecteur de ressources": "viewer",
}  # fmt: skip


def _licence(value: str | None) -> str | None:
    """The Licence column: licensed (the default, empty) or viewer, in English, German or French."""
    if not value or not value.strip():
        return None
    word = " ".join(value.split()).casefold()
    return LICENCE_WORDS.get(word, word)  # anything else is refused by the profile's check, naming the column


def _column(table: Table, field: str | None) -> str | None:
    if field is None:
        return None
    return table.label(field) if field in table.columns else field.replace("_", " ")


def _existing(uow: UnitOfWork, workspace: Workspace, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    keys = {name: sorted({values[name] for values in rows if values.get(name)}) for name in KEYS}
    matches = uow.members.live_matches(workspace.organization_id, workspace.id, keys)
    return {(name, getattr(match, name)) for match in matches for name in KEYS if getattr(match, name)}


TEMPLATE_HEADERS = (
    ("email", "Email", "ada@example.com"),
    ("username", "Username", ""),
    ("phone", "Phone", "+44 20 7946 0958"),
    ("first_name", "First name", "Ada"),
    ("last_name", "Last name", "Lovelace"),
    ("external_id", "External ID", "HR-1001"),
    ("department", "Department", ""),
    ("job_profile", "Job profile", ""),
    ("role", "Permission type", "member"),
    ("language", "Language", "en"),
    ("initial_password", "Initial password", ""),
)


def template(ctx: Context, actor: Actor, workspace_id: str, kind: str) -> tuple[str, bytes]:
    """The import template (CSV or XLSX): every column Admit reads, with one example row that
    uses the workspace's own departments and job profiles. Returns (file name, content)."""
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
    example = {name: sample for name, _, sample in TEMPLATE_HEADERS}
    example["department"] = (workspace.departments or [""])[0]
    example["job_profile"] = (workspace.job_profiles or [""])[0]
    example["language"] = workspace.default_language
    headers = [label + (" *" if name in workspace.required_fields else "") for name, label, _ in TEMPLATE_HEADERS]
    row = [example[name] for name, _, _ in TEMPLATE_HEADERS]
    if kind == "xlsx":
        return "people-template.xlsx", write_xlsx(headers, [row])
    return "people-template.csv", write_csv(headers, [row])


def run_after_dry_run(ctx: Context, actor: Actor, job_id: str, *, workspace_id: str | None = None) -> jobs.JobView:
    """The same file, with the same choices, imported for real: "Run this import" after a dry run
    that finished (no second upload). Once per dry run: asked again (a double click, a second
    administrator), it answers the import queued the first time. ``Conflict`` for a job that is
    not a finished dry run of an import."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        found = uow.jobs.get(tenant_scope(actor), job_id)
        if found is None or (workspace_id is not None and found.workspace_id != workspace_id):
            raise NotFound("job not found")
        workspace, role = workspace_for(uow, actor, found.workspace_id, Permission.MANAGE_PEOPLE)
        dry = uow.jobs.lock(found.id)  # one "run" per dry run, across processes
        assert dry is not None
        if dry.kind != "import" or not dry.options.get("dry_run") or dry.state != "done":
            raise Conflict(
                "only a dry run of an import that finished can be run for real", code="not_a_finished_dry_run"
            )
        earlier = dry.options.get("run_as")
        if earlier:
            uow.commit()
            return jobs.get(ctx, actor, str(earlier))
        stored = uow.jobs.get(dry.organization_id, dry.id, upload=True)
        assert stored is not None and stored.upload is not None
        options = {**dry.options, "dry_run": False}
        options.pop("run_as", None)
        queued = jobs.create(
            uow, actor, role, workspace, "import", options=options, total=dry.total, now=now,
            upload=stored.upload, filename=dry.filename,
        )  # fmt: skip
        uow.jobs.update(dry.id, options={**dry.options, "run_as": queued.id}, updated_at=now)
        uow.commit()
    return jobs.view(queued)
