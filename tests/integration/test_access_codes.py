"""Access codes in the use cases, on both databases: issuing one invites a member without email
(only a name and an external ID) and withdraws the previous code; permissions; redeeming creates
the account with a chosen username and password, once; expired, withdrawn and SSO-required codes
are refused; 10 wrong tries against one code withdraw it; 10,000 wrong codes from many client
addresses find nothing and leave every untargeted code usable (on SQLite only: the service is the
same on both databases, and the other tests cover PostgreSQL's throttling)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from support.clock import FixedClock

from admit.admin import access_codes, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain import access_codes as codes
from admit.domain.errors import (
    Conflict,
    InvalidCredentials,
    LinkGone,
    NotFound,
    PermissionDenied,
    SecretAlreadyUsed,
    SecretRejected,
    TooManyAttempts,
    ValidationFailed,
)
from admit.domain.roles import Role
from admit.flows.invitation import codes as redeeming
from admit.flows.signin import sessions
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "lantern-orchard-pebble-58"


def frontline(ctx: Context, operator: Actor, workspace: Any, external_id: str = "E-100", **kw: Any) -> str:
    """A member without email: a name and an external ID."""
    given = MemberInput(first_name="Ana", last_name="Silva", external_id=external_id, **kw)
    created, invitation = members.provision(ctx, operator, workspace.id, given, invite=False)
    assert invitation is None and created.email is None
    return str(created.id)


def events(ctx: Context, action: str) -> list[Any]:
    with ctx.uow() as uow:
        return [e for e in uow.events.list(None, limit=500) if e.action == action]


def test_a_member_without_email_needs_a_name_and_an_external_id(ctx: Context, operator: Actor, workspace: Any) -> None:
    with pytest.raises(ValidationFailed, match="an email, a username and a phone number, or a name and an external ID"):
        members.provision(ctx, operator, workspace.id, MemberInput(external_id="E-1"), invite=False)
    assert frontline(ctx, operator, workspace)


def test_issuing_invites_the_member_and_a_new_code_withdraws_the_old(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    member_id = frontline(ctx, operator, workspace)
    first = access_codes.issue(ctx, operator, member_id)
    assert len(codes.normalise(first.code)) == 16 and first.code not in repr(first)
    assert members.get(ctx, operator, member_id).status == "invited"
    state = access_codes.current(ctx, operator, member_id)
    assert state is not None and state.state == "live"
    assert (state.expires_at - ctx.clock.now()).days == 30
    second = access_codes.issue(ctx, operator, member_id)
    assert second.code != first.code
    with pytest.raises(LinkGone):  # the old code: its holder learns it was withdrawn
        redeeming.check(ctx, first.code, "198.51.100.1")
    assert redeeming.check(ctx, second.code, "198.51.100.1").first_name == "Ana"
    withdrawn = access_codes.withdraw(ctx, operator, member_id)
    assert withdrawn.state == "withdrawn"
    with pytest.raises(Conflict, match="no live access code"):
        access_codes.withdraw(ctx, operator, member_id)
    with pytest.raises(LinkGone):
        redeeming.check(ctx, second.code, "198.51.100.1")
    assert len(events(ctx, "access_code.issued")) == 2 and len(events(ctx, "access_code.withdrawn")) == 2


def test_only_people_managers_issue_codes_and_never_across_organizations(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    member_id = frontline(ctx, operator, workspace)
    other_org = tenancy.create_organization(ctx, operator, "Other", plan="business", seats=5)
    stranger = Actor(ActorKind.API_TOKEN, id="t", organization_id=other_org.id, role=Role.OWNER, name="x")
    with pytest.raises(NotFound):
        access_codes.issue(ctx, stranger, member_id)
    viewer = Actor(ActorKind.API_TOKEN, id="v", organization_id=workspace.organization_id, role=Role.MEMBER, name="v")
    with pytest.raises(PermissionDenied):
        access_codes.issue(ctx, viewer, member_id)


def test_redeeming_creates_the_account_once_and_the_code_is_no_credential(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    member_id = frontline(ctx, operator, workspace)
    issued = access_codes.issue(ctx, operator, member_id)
    typed = issued.code.lower().replace("-", " ")  # case, spaces and dashes do not matter
    facts = redeeming.check(ctx, typed, "198.51.100.7")
    assert (facts.workspace_name, facts.first_name, facts.needs_username) == ("Acme Main", "Ana", True)
    with pytest.raises(ValidationFailed, match="choose a username"):
        redeeming.redeem(ctx, typed, password=PASSWORD, client_address="198.51.100.7")
    done = redeeming.redeem(ctx, typed, password=PASSWORD, username="ana.silva", client_address="198.51.100.7")
    assert done["session"] and done["status"] == "active"
    member = members.get(ctx, operator, member_id)
    assert member.status == "active" and member.username == "ana.silva"
    with pytest.raises(SecretAlreadyUsed):
        redeeming.redeem(ctx, issued.code, password=PASSWORD, username="other", client_address="198.51.100.7")
    sessions.sign_in(ctx, "ana.silva", PASSWORD)
    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, "ana.silva", issued.code)
    with pytest.raises(InvalidCredentials):
        sessions.sign_in(ctx, issued.code, PASSWORD)
    assert access_codes.current(ctx, operator, member_id).state == "redeemed"  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="already a member"):
        access_codes.issue(ctx, operator, member_id)


def test_expired_codes_and_sso_workspaces_are_refused(
    ctx: Context, operator: Actor, workspace: Any, clock: FixedClock
) -> None:
    member_id = frontline(ctx, operator, workspace)
    issued = access_codes.issue(ctx, operator, member_id)
    clock.advance(days=30, seconds=1)
    with pytest.raises(LinkGone, match="expired"):
        redeeming.check(ctx, issued.code, "198.51.100.8")
    with ctx.uow(write=True) as uow:
        uow.workspaces.update(workspace.organization_id, workspace.id, sso_required=True)
        uow.commit()
    with pytest.raises(Conflict, match="single sign-on"):
        access_codes.issue(ctx, operator, member_id)


def test_ten_wrong_tries_against_one_code_withdraw_it(ctx: Context, operator: Actor, workspace: Any) -> None:
    member_id = frontline(ctx, operator, workspace)
    issued = access_codes.issue(ctx, operator, member_id)
    raw = codes.normalise(issued.code)
    for n in range(codes.MAX_FAILURES):
        wrong = raw[:4] + ("2" if raw[4] != "2" else "3") + raw[5:]
        with pytest.raises(SecretRejected):
            redeeming.check(ctx, wrong, f"203.0.113.{n}")  # a new address each time
    with pytest.raises(LinkGone, match="withdrawn"):
        redeeming.check(ctx, issued.code, "198.51.100.9")
    assert access_codes.current(ctx, operator, member_id).state == "locked"  # type: ignore[union-attr]
    assert len(events(ctx, "access_code.locked")) == 1


def test_one_address_is_slowed_down(ctx: Context, operator: Actor, workspace: Any) -> None:
    for _ in range(5):
        with pytest.raises(SecretRejected):
            redeeming.check(ctx, "2222-2222-2222-2222", "192.0.2.1")
    with pytest.raises(TooManyAttempts):
        redeeming.check(ctx, "2222-2222-2222-2224", "192.0.2.1")
    with pytest.raises(SecretRejected):  # another address is not slowed down
        redeeming.check(ctx, "2222-2222-2222-2224", "192.0.2.2")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a minute on PostgreSQL for nothing new
def test_ten_thousand_wrong_codes_from_many_addresses_find_nothing(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    issued = [access_codes.issue(ctx, operator, frontline(ctx, operator, workspace, f"E-{n}")) for n in range(3)]
    real = {codes.normalise(i.code) for i in issued}
    keys = {codes.lookup_key(c) for c in real}  # 30**4 keys: 1 run in 27 guesses one of them at random
    target = codes.normalise(issued[0].code)
    guesses = random.Random(15)
    found = 0
    for n in range(10_000):  # the issue's figure; the odds of a hit are in the README
        if n < 9:  # nine wrong tries against the first code's lookup key: not enough to lock it
            guess = target[:4] + "".join(guesses.choice(codes.ALPHABET) for _ in range(12))
        else:
            guess = "".join(guesses.choice(codes.ALPHABET) for _ in range(16))
            if codes.lookup_key(guess) in keys:  # would count against a real code: the nine above do that
                continue
        address = f"10.{n // 4 // 250 % 250}.{n // 4 % 250}.{n % 4}"  # 2,500 addresses, 4 tries each
        try:
            redeeming.check(ctx, guess, address)
            found += 1
        except (SecretRejected, LinkGone, TooManyAttempts):
            pass
    assert found == 0
    for n, code in enumerate(issued):
        assert redeeming.check(ctx, code.code, "198.51.100.200").first_name == "Ana", n
    assert access_codes.current(ctx, operator, issued[0].member_id).failures == 9  # type: ignore[union-attr]


def test_revoking_the_invitation_or_removing_the_member_withdraws_the_code(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    from admit.admin import invitations

    member_id = frontline(ctx, operator, workspace)
    issued = access_codes.issue(ctx, operator, member_id)
    pending = invitations.pending_for_member(ctx, operator, member_id)
    assert pending.channels == ["code"] and (pending.expires_at - ctx.clock.now()).days == 30
    invitations.revoke(ctx, operator, pending.id)
    assert access_codes.current(ctx, operator, member_id).state == "withdrawn"  # type: ignore[union-attr]
    with pytest.raises(LinkGone):
        redeeming.check(ctx, issued.code, "198.51.100.3")
    again = access_codes.issue(ctx, operator, member_id)  # invited again, by a new code
    members.remove(ctx, operator, member_id)
    with pytest.raises(LinkGone):
        redeeming.check(ctx, again.code, "198.51.100.3")


def test_eight_parallel_redemptions_of_one_code_have_one_winner(ctx: Context, operator: Actor, workspace: Any) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from admit.domain.errors import DomainError

    member_id = frontline(ctx, operator, workspace, username="ana", phone="+4915112345678")
    issued = access_codes.issue(ctx, operator, member_id)
    barrier = threading.Barrier(8)

    def attempt(n: int) -> dict[str, Any] | DomainError:
        barrier.wait()
        try:
            return redeeming.redeem(ctx, issued.code, password=PASSWORD, client_address=f"198.51.100.{n}")
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    wins = [o for o in outcomes if isinstance(o, dict)]
    assert len(wins) == 1, outcomes
    assert all(isinstance(o, SecretAlreadyUsed | Conflict | LinkGone) for o in outcomes if not isinstance(o, dict))
    assert members.get(ctx, operator, member_id).account_id == wins[0]["account_id"]
