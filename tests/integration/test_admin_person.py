"""A person's page in the console over HTTP, on both databases: editing the profile and the role
(errors next to the field, what was typed kept, the role rules decided by the use case), the
person's invitations with Resend and Revoke (after a confirmation page), their audit trail, the
people list's Suspend button coming back here, and who may see what: a member sees the page read
only and cannot post, another workspace's member is not found. And the use cases behind it: a
member's invitations, a member's audit trail, nobody changes their own role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.outbox import messages, token_for
from support.pages import browser_signed_in, csrf

from admit.admin import audit, invitations, members, tenancy
from admit.admin.profiles import MemberInput
from admit.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from admit.flows.invitation import claims
from admit.shared.context import Actor, ActorKind, Context

PASSWORD = "harbor-quill-lantern-64"


def person(ctx: Context, operator: Actor, workspace: Any, email: str, *, invite: bool = False, **kw: Any) -> str:
    created, _ = members.provision(ctx, operator, workspace.id, MemberInput(email=email, **kw), invite=invite)
    return str(created.id)


def signed_in(ctx: Context, operator: Actor, workspace: Any, email: str, role: str) -> tuple[TestClient, Actor]:
    """A browser signed in as a member of ``workspace`` with ``role``, and that member as an actor."""
    member_id = person(ctx, operator, workspace, email, invite=True, first_name="Olga", last_name="Berg", role=role)
    claims.accept_with_token(ctx, token_for(ctx, email), password=PASSWORD)
    browser = browser_signed_in(ctx, email, PASSWORD)
    account_id = members.get(ctx, operator, member_id).account_id
    assert account_id is not None
    return browser, Actor(ActorKind.ACCOUNT, id=account_id, name=email)


@pytest.fixture
def owner(ctx: Context, operator: Actor, workspace: Any) -> TestClient:
    return signed_in(ctx, operator, workspace, "olga@example.com", "owner")[0]


@pytest.fixture
def admin(ctx: Context, operator: Actor, workspace: Any) -> TestClient:
    return signed_in(ctx, operator, workspace, "adam@example.com", "admin")[0]


def path(workspace: Any, member_id: str) -> str:
    return f"/admin/{workspace.id}/people/{member_id}"


def form_of(page: str, **changes: str) -> dict[str, str]:
    """The profile form as the page filled it in, with ``changes``."""
    form = page.split('class="person-form"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input type="\w+" id="\w+" name="(\w+)"[^>]*value="([^"]*)"', form))
    for select in re.findall(r'<select id="\w+" name="(\w+)".*?</select>', form, re.S):
        block = form.split(f'name="{select}"', 1)[1].split("</select>", 1)[0]
        chosen = re.search(r'<option(?: value="([^"]*)")?[^>]*selected>([^<]*)<', block)
        values[select] = (
            (chosen.group(1) if chosen and chosen.group(1) is not None else chosen.group(2)) if chosen else ""
        )
    return {**values, "csrftoken": csrf(page), **changes}


def pending_id(ctx: Context, operator: Actor, member_id: str) -> str:
    return invitations.pending_for_member(ctx, operator, member_id).id


# The profile and the role ----------------------------------------------------------------------------
def test_the_people_list_links_to_the_person_and_the_page_saves_profile_and_role(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="Ann", last_name="Lee")
    listing = owner.get(f"/admin/{workspace.id}/people").text
    assert f'<a href="{path(workspace, ann)}">Ann Lee</a>' in listing
    page = owner.get(path(workspace, ann))
    assert page.status_code == 200 and "<h1>Ann Lee</h1>" in page.text and "Invited" in page.text
    data = form_of(page.text, first_name="Anna", department="Sales", role="admin", language="de")
    saved = owner.post(path(workspace, ann), data=data, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{path(workspace, ann)}?done=saved"
    after = owner.get(saved.headers["location"]).text
    assert "Saved." in after and "<h1>Anna Lee</h1>" in after
    view = members.get(ctx, operator, ann)
    assert (view.first_name, view.department, view.role, view.language, view.email) == (
        "Anna",
        "Sales",
        "admin",
        "de",
        "ann@example.com",
    )
    history = after.split('id="trail-title"', 1)[1]
    assert history.index("Profile changed") < history.index("Invited")  # newest first
    # in words, as in the audit log: who by name, the fields by their labels
    assert "Olga Berg" in history and "Changed: Department, First name, Language, Role" in history


def test_an_error_is_shown_next_to_its_field_with_what_was_typed_kept(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", first_name="Ann")
    person(ctx, operator, workspace, "bob@example.com")
    page = owner.get(path(workspace, ann)).text
    taken = owner.post(path(workspace, ann), data=form_of(page, email="bob@example.com", first_name="Annie"))
    assert taken.status_code == 409
    assert 'id="email-error">a member with this email already exists' in taken.text
    assert 'name="first_name" autocomplete="off" value="Annie"' in taken.text  # kept
    bad = owner.post(path(workspace, ann), data=form_of(page, email="", username=""))
    assert bad.status_code == 422 and 'id="email-error">an email, a username and a phone number' in bad.text
    nul = owner.post(path(workspace, ann), data=form_of(page, last_name="Lee\x00x"))
    assert nul.status_code == 422 and 'id="last_name-error">text cannot contain NUL characters' in nul.text
    assert members.get(ctx, operator, ann).first_name == "Ann" and "Traceback" not in nul.text


def test_an_admin_cannot_make_someone_owner_nor_edit_an_owner(
    ctx: Context, operator: Actor, workspace: Any, admin: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", first_name="Ann")
    page = admin.get(path(workspace, ann)).text
    assert '<option value="admin"' in page and '<option value="owner"' not in page
    forged = admin.post(path(workspace, ann), data=form_of(page, role="owner", first_name="Annie"))
    assert forged.status_code == 403
    assert 'id="role-error">your role (admin) cannot grant the owner role' in forged.text
    assert 'value="Annie"' in forged.text and '<option value="owner" selected' in forged.text  # what was typed
    assert members.get(ctx, operator, ann).role == "member" and members.get(ctx, operator, ann).first_name == "Ann"
    boss = person(ctx, operator, workspace, "boss@example.com", first_name="Bo", role="owner")
    demote = admin.post(path(workspace, boss), data=form_of(admin.get(path(workspace, boss)).text, role="member"))
    assert demote.status_code == 403 and 'id="role-error">your role (admin) cannot grant the owner role' in demote.text
    assert members.get(ctx, operator, boss).role == "owner"


def test_nobody_changes_their_own_role(ctx: Context, operator: Actor, workspace: Any) -> None:
    browser, me = signed_in(ctx, operator, workspace, "olga@example.com", "owner")
    [mine] = members.list_members(ctx, operator, workspace.id, search="olga")
    with pytest.raises(Conflict) as refused:
        members.update(ctx, me, mine.id, {"role": "member"})
    assert refused.value.field == "role"
    assert members.update(ctx, me, mine.id, {"first_name": "OlgA"}).first_name == "OlgA"  # the rest may change
    page = browser.get(path(workspace, mine.id)).text
    answer = browser.post(path(workspace, mine.id), data=form_of(page, role="admin"))
    assert answer.status_code == 409 and 'id="role-error">you cannot change your own role' in answer.text
    assert members.get(ctx, operator, mine.id).role == "owner"
    assert ">Suspend<" not in page and ">Remove<" not in page  # nor suspend or remove themselves here


# Invitations ------------------------------------------------------------------------------------------
def test_revoke_after_a_confirmation_page_then_the_invitation_shows_revoked(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="Ann")
    sent = pending_id(ctx, operator, ann)
    page = owner.get(path(workspace, ann)).text
    row = page.split(f'data-invitation="{sent}"', 1)[1].split("</tr>", 1)[0]
    assert "Pending" in row and "Email" in row and "Olga Berg" not in row  # the operator invited her
    confirm = owner.get(f"{path(workspace, ann)}/invitations/{sent}/revoke")
    assert confirm.status_code == 200 and "Revoke the invitation to Ann?" in confirm.text
    assert invitations.get(ctx, operator, sent).state == "pending"  # asking changes nothing
    done = owner.post(
        f"{path(workspace, ann)}/invitations/{sent}/revoke",
        data={"csrftoken": csrf(confirm.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path(workspace, ann)}?done=revoked"
    after = owner.get(done.headers["location"]).text
    row = after.split(f'data-invitation="{sent}"', 1)[1].split("</tr>", 1)[0]
    assert "The invitation was revoked." in after and "Revoked" in row and ">Revoke<" not in row
    assert invitations.get(ctx, operator, sent).state == "revoked"
    assert members.get(ctx, operator, ann).status == "provisioned"
    assert "Invitation revoked" in after.split('id="trail-title"', 1)[1]
    again = owner.post(f"{path(workspace, ann)}/invitations/{sent}/revoke", data={"csrftoken": csrf(confirm.text)})
    assert again.status_code == 409 and 'class="errors"' in again.text and "Traceback" not in again.text


def test_resend_renews_the_link_and_counts_the_sending(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="Ann")
    sent = pending_id(ctx, operator, ann)
    old = token_for(ctx, "ann@example.com")
    page = owner.get(path(workspace, ann)).text
    done = owner.post(
        f"{path(workspace, ann)}/invitations/{sent}/resend", data={"csrftoken": csrf(page)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path(workspace, ann)}?done=resent"
    after = owner.get(done.headers["location"]).text
    assert "The invitation was sent again." in after and "sent 2 times" in after
    assert [m["kind"] for m in messages(ctx, recipient="ann@example.com")] == ["invitation", "invitation_resent"]
    assert token_for(ctx, "ann@example.com") != old
    assert "Invitation sent again" in after.split('id="trail-title"', 1)[1]


def test_an_invitation_of_another_member_or_workspace_is_not_found_here(
    ctx: Context, operator: Actor, workspace: Any, org: Any, owner: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True)
    bob = person(ctx, operator, workspace, "bob@example.com", invite=True)
    second = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    carl = person(ctx, operator, second, "carl@example.com", invite=True, first_name="Carl")
    # the owner is an owner of the second workspace too: it is still not found through this one
    members.provision(ctx, operator, second.id, MemberInput(email="olga@example.com", role="owner"), invite=True)
    account = members.list_members(ctx, operator, workspace.id, search="olga")[0].account_id
    claims.accept_with_token(ctx, token_for(ctx, "olga@example.com"), account_id=account)
    page = owner.get(path(workspace, ann)).text
    token = csrf(page)
    assert owner.get(path(second, carl)).status_code == 200
    assert owner.get(path(workspace, carl)).status_code == 404
    assert owner.get(path(workspace, "no-such-member")).status_code == 404
    moved = owner.post(path(workspace, carl), data=form_of(page, first_name="Hijacked", email="carl@example.com"))
    assert moved.status_code == 404 and members.get(ctx, operator, carl).first_name == "Carl"
    bobs = pending_id(ctx, operator, bob)
    for member_id, invitation_id in ((ann, bobs), (carl, pending_id(ctx, operator, carl))):
        assert owner.get(f"{path(workspace, member_id)}/invitations/{invitation_id}/revoke").status_code == 404
        refused = owner.post(
            f"{path(workspace, member_id)}/invitations/{invitation_id}/revoke", data={"csrftoken": token}
        )
        assert refused.status_code == 404 and "Not found" in refused.text
    assert invitations.get(ctx, operator, bobs).state == "pending"
    assert invitations.get(ctx, operator, pending_id(ctx, operator, carl)).state == "pending"


# Who may see and do what -------------------------------------------------------------------------------
def test_a_member_sees_the_page_read_only_and_a_crafted_post_changes_nothing(
    ctx: Context, operator: Actor, workspace: Any
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="Ann", department="Ops")
    sent = pending_id(ctx, operator, ann)
    viewer, _ = signed_in(ctx, operator, workspace, "mia@example.com", "member")
    page = viewer.get(path(workspace, ann))
    assert page.status_code == 200 and "<h1>Ann</h1>" in page.text and "<dd>Ops</dd>" in page.text
    assert "<form" not in page.text.split("<main", 1)[1]  # no edit form, no buttons
    assert 'id="invitations-title"' not in page.text and 'id="trail-title"' not in page.text
    assert f'href="/admin/{workspace.id}/audit"' not in page.text  # no sections that would refuse them
    token = csrf(viewer.get("/").text)
    crafted = viewer.post(path(workspace, ann), data={"first_name": "Pwned", "role": "owner", "csrftoken": token})
    assert crafted.status_code == 403 and "Pwned" not in crafted.text
    for action in ("revoke", "resend"):
        refused = viewer.post(f"{path(workspace, ann)}/invitations/{sent}/{action}", data={"csrftoken": token})
        assert refused.status_code == 403, action
    assert viewer.get(f"{path(workspace, ann)}/invitations/{sent}/revoke").status_code == 403
    view = members.get(ctx, operator, ann)
    assert (view.first_name, view.role) == ("Ann", "member")
    assert (
        invitations.get(ctx, operator, sent).send_count == 1 and invitations.get(ctx, operator, sent).state == "pending"
    )
    assert viewer.get(f"/admin/{workspace.id}/people").status_code == 403  # the rest of the console stays shut


def test_markup_in_names_is_shown_as_text(ctx: Context, operator: Actor, workspace: Any, owner: TestClient) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="<script>alert(1)</script>")
    page = owner.get(path(workspace, ann)).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    listing = owner.get(f"/admin/{workspace.id}/people").text
    assert "<script>alert(1)" not in listing
    typed = owner.post(path(workspace, ann), data=form_of(page, last_name='"><img src=x onerror=alert(2)>' + "x" * 200))
    assert typed.status_code == 422 and "<img src=x" not in typed.text and "&lt;img src=x" in typed.text
    assert 'id="last_name-error">at most 100 characters' in typed.text


def test_suspend_and_reactivate_from_the_person_page_come_back_to_it(
    ctx: Context, operator: Actor, workspace: Any, owner: TestClient
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True, first_name="Ann")
    claims.accept_with_token(ctx, token_for(ctx, "ann@example.com"), password=PASSWORD)
    page = owner.get(path(workspace, ann)).text
    assert f'name="back" value="{path(workspace, ann)}"' in page
    done = owner.post(
        f"/admin/{workspace.id}/people/{ann}/suspend",
        data={"csrftoken": csrf(page), "back": path(workspace, ann)},
        follow_redirects=False,
    )
    assert done.headers["location"].startswith(f"{path(workspace, ann)}?done=suspended")
    after = owner.get(done.headers["location"]).text
    assert "Ann was suspended." in after and ">Reactivate<" in after
    assert members.get(ctx, operator, ann).status == "suspended"
    assert "Suspended" in after.split('id="trail-title"', 1)[1]
    boss = person(ctx, operator, workspace, "boss@example.com", invite=True, first_name="Bo", role="owner")
    claims.accept_with_token(ctx, token_for(ctx, "boss@example.com"), password=PASSWORD)
    admin, _ = signed_in(ctx, operator, workspace, "adam@example.com", "admin")
    bosses = admin.get(path(workspace, boss)).text
    assert ">Suspend<" in bosses  # offered; the use case decides
    refused = admin.post(
        f"/admin/{workspace.id}/people/{boss}/suspend", data={"csrftoken": csrf(bosses), "back": path(workspace, boss)}
    )
    assert refused.status_code == 403 and "<h1>Bo</h1>" in refused.text  # the person's page, with why
    assert 'class="errors" role="alert">your role (admin) cannot grant the owner role' in refused.text
    assert members.get(ctx, operator, boss).status == "active"
    remove = owner.get(f"/admin/{workspace.id}/people/{ann}/remove?back={path(workspace, ann)}").text
    assert f'href="{path(workspace, ann)}"' in remove  # Cancel returns to the person


# The use cases -------------------------------------------------------------------------------------------
def test_a_members_invitations_and_trail_need_their_permissions_and_stay_with_the_member(
    ctx: Context, operator: Actor, workspace: Any, org: Any
) -> None:
    ann = person(ctx, operator, workspace, "ann@example.com", invite=True)
    bob = person(ctx, operator, workspace, "bob@example.com", invite=True)
    first = pending_id(ctx, operator, ann)
    invitations.revoke(ctx, operator, first)
    second = invitations.invite_member(ctx, operator, ann).id
    members.update(ctx, operator, bob, {"first_name": "Bob"})
    assert [i.id for i in invitations.for_member(ctx, operator, ann)] == [second, first]  # newest first
    trail = audit.for_member(ctx, operator, workspace.id, ann)
    assert [e["action"] for e in trail] == [
        "invitation.created",
        "invitation.revoked",
        "invitation.created",
        "member.provisioned",
    ]
    assert all(e["subject_id"] in (ann, first, second) for e in trail)
    other = tenancy.create_workspace(ctx, operator, org.id, "Acme Second")
    with pytest.raises(NotFound):
        audit.for_member(ctx, operator, other.id, ann)
    with pytest.raises(NotFound):
        invitations.for_member(ctx, operator, ann, workspace_id=other.id)
    with pytest.raises(NotFound):
        invitations.revoke(ctx, operator, second, member_id=bob)
    _, viewer = signed_in(ctx, operator, workspace, "mia@example.com", "member")
    with pytest.raises(PermissionDenied):
        invitations.for_member(ctx, viewer, ann)
    with pytest.raises(PermissionDenied):
        audit.for_member(ctx, viewer, workspace.id, ann)


def test_text_with_a_nul_character_is_refused_by_the_directory(ctx: Context, operator: Actor, workspace: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        members.provision(
            ctx, operator, workspace.id, MemberInput(email="a@example.com", first_name="A\x00"), invite=False
        )
    assert refused.value.field == "first_name"
