"""The directory: provision, list, read, update, suspend, reactivate, remove members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from admit.admin import licences, scim_brake, security_controls
from admit.admin.invitations import InvitationView, new_member, open_invitation, view
from admit.admin.member_view import MemberView, member_view
from admit.admin.profiles import MemberInput
from admit.domain import members as rules
from admit.domain.errors import AlreadyExists, Conflict, InvalidTransition, NotFound, ValidationFailed
from admit.domain.events import EventType
from admit.domain.identifiers import plausible_id
from admit.domain.invitations import InvitationState
from admit.domain.members import MemberStatus
from admit.domain.passwords import PasswordPolicy
from admit.domain.ports import UnitOfWork
from admit.domain.records import Member, Workspace
from admit.domain.roles import Permission, Role, ensure_can_grant
from admit.domain.workspaces import SCIM_TRUST
from admit.flows.invitation.claims import create_account_for
from admit.oidc_provider import backchannel
from admit.shared.access import tenant_scope, workspace_for
from admit.shared.context import Actor, ActorKind, Context, record
from admit.shared.endings import end_invitation
from admit.shared.messages import enqueue

EDITABLE = (
    "first_name",
    "last_name",
    "email",
    "username",
    "phone",
    "external_id",
    "department",
    "job_profile",
    "language",
    "role",
)


def provision(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    person: MemberInput,
    *,
    invite: bool | None,
    message: str | None = None,
    then: Callable[[UnitOfWork, Member], None] | None = None,
) -> tuple[MemberView, InvitationView | None]:
    """Create a member; with ``invite`` they are invited at once, otherwise they wait silently
    ("awaiting invitation": no message, nothing to claim). ``invite=None`` follows the workspace's
    "send activation automatically" setting (integrations). ``then`` runs in the same transaction
    after the rules passed (a door's own rows, such as SCIM's userName: all or nothing with the
    member). Returns (member, invitation)."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        values = person.cleaned(workspace, ctx.phone_region)
        ensure_can_grant(role, Role(values["role"]))
        _ensure_unique(uow, workspace, values)
        inviting = workspace.auto_invite if invite is None else invite
        member = new_member(uow, actor, workspace, values, now, invited=inviting)
        invitation = None
        if inviting:
            # an identity provider's sync (SCIM) is a bulk door: not counted per person (admin.rate_limits)
            counted = actor.kind is not ActorKind.SCIM
            opened = open_invitation(ctx, uow, actor, workspace, member, message=message, now=now, counted=counted)
            invitation = view(opened, now)
        if then is not None:
            then(uow, member)
        uow.commit()
    return member_view(member), invitation


def provision_active(
    ctx: Context, actor: Actor, workspace_id: str, person: MemberInput, initial_password: str
) -> MemberView:
    """Create a member who is active at once, with an account and an initial one-time password
    (they choose their own at first sign-in): no invitation, no message. ``WeakPassword`` when the
    password breaks the workspace's policy, ``Conflict`` when an account has these identifiers."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        workspace, role = workspace_for(uow, actor, workspace_id, Permission.MANAGE_PEOPLE)
        values = person.cleaned(workspace, ctx.phone_region)
        ensure_can_grant(role, Role(values["role"]))
        _ensure_unique(uow, workspace, values)
        check_initial_password(workspace, values, initial_password)
        member = activate_with_password(ctx, uow, actor, workspace, values, initial_password, now)
        uow.commit()
    return member_view(member)


def set_initial_password(
    ctx: Context, actor: Actor, member_id: str, initial_password: str, *, workspace_id: str | None = None
) -> MemberView:
    """Activate a member who has no account yet (awaiting invitation, or invited) with a one-time
    password an administrator gives them by hand (the fourth article's "granted manually"): the
    account is made with the member's identifiers and must choose its own password at its first
    sign-in, through every door; a pending invitation ends (its link and access code stop working).

    A member who already has an account is refused: an account may belong to several
    organizations, and no administrator sets the password of a person's account (they reset it
    themselves). ``WeakPassword`` when the password breaks the workspace's policy; ``Conflict``
    when an account already holds one of the member's identifiers."""
    if not isinstance(initial_password, str) or not initial_password or len(initial_password) > 256:
        raise ValidationFailed("a one-time password of 1 to 256 characters is required", field="password")
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace, role = _load(uow, actor, member_id, Permission.MANAGE_PEOPLE, workspace_id)
        ensure_can_grant(role, Role(member.role))
        if member.account_id is not None or member.status not in (MemberStatus.PROVISIONED, MemberStatus.INVITED):
            raise InvalidTransition(
                "only a member without an account (awaiting invitation or invited) gets a one-time password;"
                " a person with an account resets their password themselves",
                code="has_account",
            )
        values = dict(member._mapping)
        check_initial_password(workspace, values, initial_password)
        pairs = [(kind, values[kind]) for kind in ("email", "username", "phone") if values.get(kind)]
        if not pairs:
            raise ValidationFailed(
                "the person needs a username, email or phone to sign in with; add one first", field="username"
            )
        if uow.accounts.by_identifiers(pairs) is not None:
            raise Conflict(
                "an account with this email, username or phone already exists; invite the person instead",
                code="account_exists",
                field=pairs[0][0],
            )
        pending = uow.invitations.pending_for_member(member.organization_id, member.id)
        if pending is not None:
            end_invitation(uow, actor, pending, InvitationState.REVOKED, now)
            member = member._replace(status=MemberStatus.PROVISIONED.value)
        licences.ensure_seat(
            uow, member.organization_id, (MemberStatus.ACTIVE.value, member.licence), (member.status, member.licence)
        )
        owner = {**values, "organization_id": workspace.organization_id, "workspace_id": workspace.id}
        account_id = create_account_for(uow, owner, ctx.hasher.hash(initial_password), now, must_change_password=True)
        if not uow.members.move(
            member.organization_id, member.id, member.status,
            status=MemberStatus.ACTIVE, account_id=account_id, updated_at=now,
        ):  # fmt: skip
            raise Conflict("the member changed meanwhile", code="member_changed")
        record(
            uow, actor, EventType.MEMBER_ACTIVATED, "member", member.id, now,
            organization_id=workspace.organization_id, workspace_id=workspace.id,
            account_id=account_id, initial_password=True,
        )  # fmt: skip
        activated = uow.members.get(member.organization_id, member.id)
        uow.commit()
    assert activated is not None
    return member_view(activated)


def check_initial_password(workspace: Workspace, values: dict[str, Any], password: str) -> None:
    """``WeakPassword`` when an initial password breaks the workspace's policy."""
    context = [v for v in (values["email"], values["username"], values["first_name"], values["last_name"]) if v]
    PasswordPolicy.named(workspace.password_policy).check(password, [*context, workspace.name])


def activate_with_password(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    workspace: Workspace,
    values: dict[str, Any],
    password: str,
    now: datetime,
) -> Member:
    """An active member with an initial one-time password, in the caller's transaction: the account
    exists at once (the person must choose their own password at first sign-in), with no invitation."""
    pairs = [(kind, values[kind]) for kind in ("email", "username", "phone") if values.get(kind)]
    if uow.accounts.by_identifiers(pairs) is not None:
        raise Conflict(
            "an account with this email, username or phone already exists; invite the person instead",
            code="account_exists",
            field=pairs[0][0],
        )
    owner = {**values, "organization_id": workspace.organization_id, "workspace_id": workspace.id}
    account_id = create_account_for(uow, owner, ctx.hasher.hash(password), now, must_change_password=True)
    member = new_member(uow, actor, workspace, values, now, account_id=account_id)
    record(
        uow,
        actor,
        EventType.MEMBER_ACTIVATED,
        "member",
        member.id,
        now,
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        account_id=account_id,
        initial_password=True,
    )
    return member


def _ensure_unique(uow: UnitOfWork, workspace: Workspace, values: dict[str, Any], exclude: str | None = None) -> None:
    for name in ("email", "username", "external_id"):
        if values.get(name) is None:
            continue
        existing = uow.members.find_live(workspace.organization_id, workspace.id, **{name: values[name]})
        if existing is not None and existing.id != exclude:
            raise Conflict(
                f"a member with this {name.replace('_', ' ')} already exists", code="member_exists", field=name
            )


def parse_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The (created_at, id) a listing's ``next_cursor`` names (:func:`next_cursor`); a cursor no
    listing gave (a timestamp without its zone, an id cut short, anything else) is refused."""
    if not cursor:
        return None
    stamp, _, row_id = cursor.partition("~")
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or not plausible_id(row_id):
        raise ValidationFailed("the cursor is not valid: pass the next_cursor a page gave", field="cursor")
    return at, row_id


class Listed(Protocol):
    """An item of a listing in creation order: a record or a view (members, invitations)."""

    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


def make_cursor(item: Listed) -> str:
    """The cursor to the items listed after ``item`` (read back by :func:`parse_cursor`)."""
    return f"{item.created_at.isoformat()}~{item.id}"


def list_members(
    ctx: Context,
    actor: Actor,
    workspace_id: str,
    *,
    status: str | None = None,
    department: str | None = None,
    role: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> list[MemberView]:
    """A page of the directory; filters combine (status, department, role, and a search for a
    part of a name, email, username, phone or external ID)."""
    if search:
        search = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")[:100]
    if status is not None:
        try:
            MemberStatus(status)
        except ValueError:
            raise ValidationFailed(f"unknown status {status!r}", field="status") from None
    with ctx.uow() as uow:
        workspace, _ = workspace_for(uow, actor, workspace_id, Permission.VIEW_DIRECTORY)
        rows = uow.members.list(
            workspace.organization_id,
            workspace.id,
            status=status,
            department=department,
            role=role,
            search=search,
            after=parse_cursor(cursor),
            limit=limit,
        )
    return [MemberView(*row) for row in rows]


def _load(
    uow: UnitOfWork, actor: Actor, member_id: str, permission: Permission, workspace_id: str | None = None
) -> tuple[Member, Workspace, Role]:
    """The member (in ``workspace_id`` when a door names one: another workspace's member is not
    found there), its workspace and the actor's role in it, which must allow ``permission``."""
    member = uow.members.get(tenant_scope(actor), member_id)
    if member is None or (workspace_id is not None and member.workspace_id != workspace_id):
        raise NotFound("member not found")
    workspace, role = workspace_for(uow, actor, member.workspace_id, permission)
    return member, workspace, role


def get(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> MemberView:
    with ctx.uow() as uow:
        member, _, _ = _load(uow, actor, member_id, Permission.VIEW_DIRECTORY, workspace_id)
    return member_view(member)


def update(
    ctx: Context, actor: Actor, member_id: str, changes: dict[str, Any], *, workspace_id: str | None = None
) -> MemberView:
    """Change profile fields or the role; a role above the caller's own can be neither granted
    nor taken away, and nobody changes their own role (an owner would leave the workspace without
    one, an admin would lock themselves out): another administrator does."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace, role = _load(uow, actor, member_id, Permission.MANAGE_PEOPLE, workspace_id)
        ensure_can_grant(role, Role(member.role))
        current = {name: getattr(member, name) for name in EDITABLE}
        values = MemberInput(**{**current, **changes}).cleaned(workspace, ctx.phone_region)
        ensure_can_grant(role, Role(values["role"]))
        changed = {k: v for k, v in values.items() if current.get(k) != v}
        if "role" in changed and actor.kind is ActorKind.ACCOUNT and member.account_id == actor.id:
            raise Conflict(
                "you cannot change your own role; ask another administrator", code="self_lockout", field="role"
            )
        if changed:
            _ensure_unique(uow, workspace, changed, exclude=member.id)
            security_controls.check_email(uow, workspace.organization_id, changed.get("email"))
            uow.members.update(workspace.organization_id, member.id, **changed, updated_at=now)
            if actor.kind is ActorKind.SCIM and workspace.scim_identifier_changes != SCIM_TRUST:
                _announce_new_identifiers(ctx, uow, workspace, member, changed, now)
            else:  # an administrator, or an identity provider the workspace trusts
                _sign_in_with_new_identifiers(
                    uow, workspace, member, changed, now, tell_previous=actor.kind is ActorKind.SCIM
                )
            if "role" in changed and member.status == MemberStatus.ACTIVE:  # apps hold tokens with the old role
                backchannel.role_changed(uow, workspace.organization_id, workspace.id, member.account_id, now)
            record(
                uow,
                actor,
                EventType.MEMBER_UPDATED,
                "member",
                member.id,
                now,
                organization_id=workspace.organization_id,
                workspace_id=workspace.id,
                fields=sorted(changed),
                **({"role": changed["role"], "previous_role": member.role} if "role" in changed else {}),
            )
        uow.commit()
    return member_view(member, **changed, updated_at=now) if changed else member_view(member)


def _sign_in_with_new_identifiers(
    uow: UnitOfWork,
    workspace: Workspace,
    member: Member,
    changed: dict[str, Any],
    now: datetime,
    *,
    tell_previous: bool = False,
) -> None:
    """An identifier an administrator gives a member who has an account becomes one the account
    signs in with (the fourth article: username + phone people who later get an email use both),
    and so does one from an identity provider (SCIM) the workspace trusts (its
    ``scim_identifier_changes`` is ``trust``). Another account's identifier is refused (SCIM: 409
    uniqueness); a new email address is told, so that its owner learns if it was typed by mistake,
    and with ``tell_previous`` (SCIM) the previous address is told that it changed."""
    if member.account_id is None:
        return
    held = set(uow.accounts.identifiers(member.account_id))
    language = member.language or workspace.default_language
    for kind in ("email", "username", "phone"):
        value = changed.get(kind)
        if not value or (kind, value) in held:
            continue
        owner = uow.accounts.by_identifiers([(kind, value)])
        if owner is not None:
            raise AlreadyExists(f"another account already signs in with this {kind}", field=kind, code="account_exists")
        uow.accounts.add_identifier(member.account_id, kind, value, now)
        if kind != "email":
            continue
        payload = {"address": value, "workspace_name": workspace.name, "first_name": member.first_name}
        messages = [("identifier_added", value)]
        if tell_previous and member.email and member.email != value:
            messages.append(("sign_in_address_changed", member.email))
        for message, recipient in messages:
            enqueue(
                uow,
                kind=message,
                channel="email",
                recipient=recipient,
                language=language,
                subject_id=member.id,
                organization_id=workspace.organization_id,
                workspace_id=workspace.id,
                now=now,
                payload=payload,
            )


def _announce_new_identifiers(
    ctx: Context, uow: UnitOfWork, workspace: Workspace, member: Member, changed: dict[str, Any], now: datetime
) -> None:
    """An identity provider (SCIM) the workspace does not trust with sign-in (its
    ``scim_identifier_changes`` is ``verify``, the default) never changes how a claimed account
    signs in: the directory entry takes the new email address, username or phone number, but the
    account does not. A new email address is told how its owner makes it a sign-in address (signed
    in with what they use today, they add it on the account's email page, which sends a code to
    it: the person verifies it), and the previous address is told of the change. A new phone
    number is texted the same (the account's phone page; the SMS counts against the SMS rate
    limits, and a refusal there refuses the change: the provider retries). A new username is not
    added to the account (the person signs in as before)."""
    if member.account_id is None:
        return
    held = set(uow.accounts.identifiers(member.account_id))
    language = member.language or workspace.default_language
    common = {"workspace_name": workspace.name, "first_name": member.first_name}
    messages: list[tuple[str, str, str, dict[str, Any]]] = []
    email = changed.get("email")
    if email and ("email", email) not in held:
        told = {**common, "address": email}
        messages.append(("address_to_confirm", "email", email, {**told, "link": ctx.link("/settings/email")}))
        if member.email:
            messages.append(("address_changed", "email", member.email, told))
    phone = changed.get("phone")
    if phone and ("phone", phone) not in held:
        messages.append(("phone_to_confirm", "sms", phone, {**common, "link": ctx.link("/settings/phone")}))
    for kind, channel, recipient, payload in messages:
        enqueue(
            uow,
            kind=kind,
            channel=channel,
            recipient=recipient,
            language=language,
            subject_id=member.id,
            organization_id=workspace.organization_id,
            workspace_id=workspace.id,
            now=now,
            payload=payload,
        )


def suspend(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> MemberView:
    """Suspend a live member, whatever their state: an invited member's pending invitation is
    revoked (its link answers that it was withdrawn); every token and app session of theirs in
    the workspace ends here, and their Admit session no longer reaches the workspace from the next
    request (every request reads the membership). From an identity provider (an actor of kind
    SCIM), the deprovisioning brake may hold the change instead (:mod:`admit.admin.scim_brake`):
    the member is answered unchanged."""
    return _move(ctx, actor, member_id, MemberStatus.SUSPENDED, EventType.MEMBER_SUSPENDED, workspace_id)


def reactivate(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> MemberView:
    """A suspended member becomes active again if they have an account, else provisioned
    (awaiting invitation: their invitation was revoked when they were suspended)."""
    return _move(ctx, actor, member_id, MemberStatus.ACTIVE, EventType.MEMBER_REACTIVATED, workspace_id)


def remove(ctx: Context, actor: Actor, member_id: str, *, workspace_id: str | None = None) -> MemberView:
    """Remove a live member (final); like :func:`suspend` for their invitation, tokens and the brake."""
    return _move(ctx, actor, member_id, MemberStatus.REMOVED, EventType.MEMBER_REMOVED, workspace_id)


def _move(
    ctx: Context, actor: Actor, member_id: str, target: MemberStatus, action: EventType, workspace_id: str | None
) -> MemberView:
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace, role = _load(uow, actor, member_id, Permission.MANAGE_PEOPLE, workspace_id)
        moved = _move_in(uow, actor, member, workspace, role, target, action, now)
        uow.commit()
    return moved


def _move_in(
    uow: UnitOfWork,
    actor: Actor,
    member: Member,
    workspace: Workspace,
    role: Role,
    target: MemberStatus,
    action: EventType,
    now: datetime,
) -> MemberView:
    """The status change in the caller's transaction (the caller commits, a hold included)."""
    ensure_can_grant(role, Role(member.role))
    if actor.kind is ActorKind.ACCOUNT and member.account_id == actor.id and target is not MemberStatus.ACTIVE:
        raise Conflict("you cannot suspend or remove yourself; ask another administrator", code="self_lockout")
    if target is MemberStatus.ACTIVE:
        if member.status != MemberStatus.SUSPENDED:
            raise InvalidTransition("only a suspended member can be reactivated", field="status")
        target = rules.reactivated_status(member.account_id is not None)
    rules.transition(member.status, target)
    if (
        actor.kind is ActorKind.SCIM
        and member.status != MemberStatus.SUSPENDED  # removing someone already suspended takes nothing away
        and target in (MemberStatus.SUSPENDED, MemberStatus.REMOVED)
    ):
        brake_action = "deactivate" if target is MemberStatus.SUSPENDED else "delete"
        if scim_brake.hold_if_braking(uow, actor, workspace, member, brake_action, now):
            return member_view(member)
    if member.status == MemberStatus.INVITED:
        pending = uow.invitations.pending_for_member(workspace.organization_id, member.id)
        if pending is not None:
            end_invitation(uow, actor, pending, InvitationState.REVOKED, now)
            reloaded = uow.members.get(workspace.organization_id, member.id)
            assert reloaded is not None
            member = reloaded
    if not uow.members.move(workspace.organization_id, member.id, member.status, status=target.value, updated_at=now):
        raise Conflict("the member changed meanwhile; reload and try again", code="member_changed")
    if target in (MemberStatus.SUSPENDED, MemberStatus.REMOVED):  # their apps' sessions and tokens end here
        backchannel.membership_ended(uow, workspace.organization_id, workspace.id, member.account_id, now)
    if target is MemberStatus.REMOVED:  # a removed person leaves their groups (their ETags move)
        left = [group.id for group in uow.groups.of_member(workspace.organization_id, member.id)]
        uow.groups.leave(workspace.organization_id, member.id, left)
        uow.groups.touch(workspace.organization_id, left, now)
        # and their SCIM userName is free again, whichever door removed them: an identity provider
        # that looks the person up no longer finds them, and may create them anew
        uow.scim_users.remove(workspace.organization_id, member.id)
    record(
        uow,
        actor,
        action,
        "member",
        member.id,
        now,
        organization_id=workspace.organization_id,
        workspace_id=workspace.id,
        previous=member.status,
    )
    return member_view(member, status=target.value, updated_at=now)


def decide_hold(
    ctx: Context, actor: Actor, workspace_id: str, hold_id: str, member_id: str, action: str, state: str
) -> None:
    """Release (apply) or dismiss one change held by the SCIM brake, in one transaction with the
    change itself; a change that is moot by now (the member already suspended or removed) is
    marked released without another move. Called by :mod:`admit.admin.scim_brake`."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        member, workspace, role = _load(uow, actor, member_id, Permission.MANAGE_PEOPLE, workspace_id)
        if not uow.scim_holds.decide(workspace.organization_id, hold_id, state, now, actor.id):
            raise Conflict("this held change was decided meanwhile", code="hold_decided")
        if state == "released":
            target = MemberStatus.SUSPENDED if action == "deactivate" else MemberStatus.REMOVED
            moot = member.status == MemberStatus.REMOVED or member.status == target
            if not moot:
                event = EventType.MEMBER_SUSPENDED if target is MemberStatus.SUSPENDED else EventType.MEMBER_REMOVED
                _move_in(uow, actor, member, workspace, role, target, event, now)
        record(
            uow,
            actor,
            EventType.MEMBER_HOLD_RELEASED if state == "released" else EventType.MEMBER_HOLD_DISMISSED,
            "member",
            member.id,
            now,
            organization_id=workspace.organization_id,
            workspace_id=workspace.id,
            hold_id=hold_id,
            held_action=action,
        )
        uow.commit()
