"""Values never become markup: every page and message template, in every language, with hostile
text in every value it takes; and no template hands a runtime value to ``gettext``.

Jinja's newstyle ``gettext`` marks its result safe under autoescape, so ``gettext(error)`` renders
an error that quotes an uploaded file or a typed value as live HTML (and %-formats it). Runtime
messages go through ``tr()``, which escapes; ``gettext``/``_``/``ngettext`` take literals only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, meta, nodes
from jinja2.runtime import Macro

from admit.adapters.delivery import render as messages
from admit.entrypoints.web.pages import common
from admit.i18n import LANGUAGES

SRC = Path(__file__).resolve().parents[2] / "src" / "admit"
PAGES = SRC / "entrypoints" / "web" / "templates"
MESSAGES = SRC / "adapters" / "delivery" / "templates"
HOSTILE = "<script>x</script><img src=x onerror=alert(1)>\"'{{7*7}}\r\n\u202e&amp;"
ESCAPED = "&lt;script&gt;x&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#34;&#39;{{7*7}}"
TRANSLATORS = {"gettext", "_", "ngettext", "pgettext", "npgettext"}


def page_env(language: str) -> Environment:
    """The environment the app renders its pages with."""
    return common.templates(language).env


def page_names() -> list[str]:
    names = sorted(p.name for p in PAGES.glob("*.html"))
    assert names == sorted(page_env("en").list_templates()), "the loader sees other templates than the folder"
    return names


def message_names() -> list[str]:
    return sorted(p.name for p in MESSAGES.glob("*.jinja"))


# 1. gettext and friends take literals only ------------------------------------------------------
def _non_literal_translations(env: Environment, name: str) -> list[str]:
    """Each use of gettext/_/ngettext… whose message is not a string literal, or that is not a call."""
    assert env.loader is not None
    source = env.loader.get_source(env, name)[0]
    tree = env.parse(source, name)
    called: set[int] = set()
    found = []
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in TRANSLATORS:
            called.add(id(call.node))
            literals = 2 if call.node.name in ("ngettext", "pgettext") else 3 if call.node.name == "npgettext" else 1
            messages_ = call.args[:literals]
            if len(messages_) < literals or not all(
                isinstance(a, nodes.Const) and isinstance(a.value, str) for a in messages_
            ):
                found.append(f"{name}:{call.lineno}: {call.node.name}() of a runtime value (use tr())")
    for used in tree.find_all(nodes.Name):
        if used.name in TRANSLATORS and used.ctx == "load" and id(used) not in called:
            found.append(f"{name}:{used.lineno}: {used.name} used other than called with a literal")
    return found


def test_page_templates_give_gettext_literals_only() -> None:
    env = page_env("en")
    assert [f for name in page_names() for f in _non_literal_translations(env, name)] == []


def test_message_templates_give_gettext_literals_only() -> None:
    env = messages.environment("en")
    assert [f for name in message_names() for f in _non_literal_translations(env, name)] == []


def test_the_lint_catches_a_runtime_value_given_to_gettext() -> None:
    sources = {
        "bad.html": "{{ gettext(error) }}{{ _(x ~ 'y') }}{% set t = gettext %}{{ ngettext('a', b, 2) }}",
        "good.html": "{{ gettext('Literal') }}{% trans n=3 %}{{ n }} <b>x</b>{% endtrans %}{{ tr(error) }}",
    }
    env = Environment(loader=DictLoader(sources), autoescape=True, extensions=["jinja2.ext.i18n"])
    assert len(_non_literal_translations(env, "bad.html")) == 4
    assert _non_literal_translations(env, "good.html") == []


def test_tr_escapes_translates_and_never_formats() -> None:
    env = page_env("de")
    assert env.globals["tr"]("<b>x</b> 100% %(y)s") == "&lt;b&gt;x&lt;/b&gt; 100% %(y)s"
    assert env.globals["tr"]("An upper-case letter") == "Ein Großbuchstabe"


# 2. Every page with hostile values -----------------------------------------------------------------
class Hostile(int):
    """Whatever a template asks of a value: any attribute, item, call or iteration answers another
    hostile value, and as text it is HOSTILE. An int (2) so that it can be a count, too.
    ``fields`` pins some attributes/items to chosen values, to reach the branches behind
    ``x.kind == "import"`` and the like."""

    fields: dict[str, Any]

    def __new__(cls, **fields: Any) -> Hostile:
        value = super().__new__(cls, 2)
        value.fields = fields
        return value

    def __str__(self) -> str:
        return HOSTILE

    __repr__ = __str__

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("_", "jinja_")):  # no __html__: the value must be escaped as text
            raise AttributeError(name)
        return self.fields.get(name, Hostile())

    def __getitem__(self, key: object) -> Any:
        return self.fields.get(key, Hostile()) if isinstance(key, str) else Hostile()

    def __call__(self, *args: object, **kwargs: object) -> Hostile:
        return Hostile()

    def __iter__(self) -> Iterator[Hostile]:
        return iter((Hostile(), Hostile()))

    def __len__(self) -> int:
        return 2

    def __contains__(self, item: object) -> bool:
        return False


def _undeclared(env: Environment, name: str, seen: set[str] | None = None) -> set[str]:
    """The variables a template and every template it extends, includes or imports take."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    assert env.loader is not None
    tree = env.parse(env.loader.get_source(env, name)[0], name)
    found = set(meta.find_undeclared_variables(tree)) - set(env.globals)
    for other in meta.find_referenced_templates(tree):
        assert other is not None, f"{name} names a template only known at run time"
        found |= _undeclared(env, other, seen)
    return found


def _render_page(env: Environment, name: str, pinned: dict[str, Any]) -> str:
    """The page rendered, then each macro it defines called with hostile arguments."""
    context = {variable: Hostile() for variable in _undeclared(env, name)} | pinned
    template = env.get_template(name)
    output = [template.render(context)]
    module = template.make_module(context)
    for macro in vars(module).values():
        if isinstance(macro, Macro):
            output.append(str(macro(*[Hostile() for _ in macro.arguments])))
    return "\n".join(output)


# The templates' own images (a workspace's logo; its URL is built by the branding service): any
# other <img> on a page came from a value.
TEMPLATE_IMAGES = ("brand-logo", "logo-preview")


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for attr, _ in attrs:
            if not re.fullmatch(r"[a-z][a-z-]*", attr) or attr.startswith("on"):
                self.problems.append(f"<{tag}> got the attribute {attr!r}")
        if tag == "script" and "src" not in dict(attrs):
            self.problems.append("an inline <script>")
        if tag == "img" and dict(attrs).get("class") not in TEMPLATE_IMAGES:
            self.problems.append("an <img>")


def assert_escaped(html: str, *, shows_values: bool = True) -> None:
    assert "<script>x" not in html and "<img src=x" not in html and "\"'{{7*7}}" not in html
    assert "49" not in html  # a value is never evaluated as a template
    assert not re.search("\u202e&amp;(?!amp;)", html), "an entity in a value reached the page unescaped"
    checker = _Markup()
    checker.feed(html)
    assert checker.problems == []
    if shows_values:  # the hostile text did reach the page, as text
        assert ESCAPED in html


# Values some pages compare with a literal before showing other values: a second rendering pins them.
PINNED: dict[str, list[dict[str, Any]]] = {
    "admin_confirm.html": [{"target": Hostile(kind="listed")}, {"target": Hostile(kind="resend")}],
    "admin_review.html": [{"target": Hostile(kind="listed")}, {"target": Hostile(kind="all")}],
    "admin_job.html": [
        {"job": Hostile(kind="import", state="failed", error=HOSTILE)},
        {"job": Hostile(kind="invite_all", state="running", cancel_requested=False), "running": True},
    ],
    "admin_jobs.html": [{"jobs": [Hostile(kind="import"), Hostile(kind="listed")]}],
    "admin_people.html": [{"notice": Hostile(done=done)} for done in ("created", "resent", "removed")],
    "admin_audit.html": [{"events": [Hostile(data={HOSTILE: HOSTILE})], "prefixes": [HOSTILE, "member."]}],
    "mailbox_message.html": [
        {"message": Hostile(channel="email", kind="invitation"), "rendered": Hostile(html=HOSTILE, text=HOSTILE)}
    ],
    "dead_link.html": [{"state": state} for state in ("expired", "accepted")],
    "sso_error.html": [{"reason": "not_allowed", "code": "not_a_member"}, {"reason": "unavailable"}],
    "welcome_claim.html": [{"mode": "sign_up", "errors": [HOSTILE, "An upper-case letter"]}],
    "welcome_sso.html": [{"login": Hostile(password_account=False)}],
    "welcome_verify.html": [{"error": "invalid", "attempts_left": Hostile()}],
    "home.html": [{"notice": "declined", "pending": [], "workspaces": [Hostile(app_url="")]}],
}
# Pages that show no value at all (the hostile text cannot appear, only stay out).
SHOWS_NO_VALUE = {"_base.html"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", page_names())
def test_every_page_escapes_hostile_values(name: str, language: str) -> None:
    env = page_env(language)
    for pinned in [{}, *PINNED.get(name, [])]:
        assert_escaped(_render_page(env, name, pinned), shows_values=name not in SHOWS_NO_VALUE)


def test_pinned_contexts_name_existing_pages() -> None:
    assert set(PINNED) | SHOWS_NO_VALUE <= set(page_names())


# 3. Every email and SMS with hostile values --------------------------------------------------------
def hostile_payload() -> dict[str, Any]:
    return {
        "workspace_name": HOSTILE,
        "inviter_name": HOSTILE,
        "message": HOSTILE,
        "first_name": HOSTILE,
        "link": "https://admit.example.test/i/" + HOSTILE,
        "expires_at": "2026-11-29T09:00:00+00:00",
        "code": HOSTILE,
        "expires_minutes": HOSTILE,
        "invitee": HOSTILE,
        "version": HOSTILE,
        "address": HOSTILE,
        "url": HOSTILE,
        "type": HOSTILE,
        "organization_name": HOSTILE,  # an invitation to join an organization's account (issue 17)
        "decline_link": "https://admit.example.test/org-invitations/" + HOSTILE,
        "enterprise": True,
        "acquired_name": HOSTILE,  # a refused merge, told to the inviting side (issue 17)
        "refusal": "already_member",  # shows the reason as it is
        "reason": HOSTILE,
        "licences_needed": HOSTILE,
        "licences_available": HOSTILE,
    }


def test_every_message_template_is_a_kind_or_shared() -> None:
    used = {messages._TEMPLATE.get(kind, kind) + ".jinja" for kind in messages.KINDS}
    assert set(message_names()) == used | {"_layout.jinja", "_macros.jinja"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", messages.KINDS)
def test_every_message_escapes_hostile_values_and_keeps_headers_on_one_line(kind: str, language: str) -> None:
    rendered = messages.render(kind, language, hostile_payload())
    assert_escaped(rendered.html)
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert not any(c in rendered.subject for c in "\x00\x0b\x0c\x85\u2028\u2029")
    assert "\r" not in rendered.sms and "\n" not in rendered.sms
    assert "<script>x</script>" in rendered.subject + rendered.sms  # plain text: shown as typed, not escaped
    plain = rendered.text + rendered.subject + rendered.sms
    assert "&lt;" not in plain and "&#39;" not in plain and "&#34;" not in plain  # …and not escaped either


def test_a_subject_folds_every_control_character_and_line_separator() -> None:
    payload = {**hostile_payload(), "workspace_name": "A\r\nBcc: x@evil.example\x00\x1b\u2028\u2029\x85Z"}
    subject = messages.render("terms_updated", "en", payload).subject
    assert subject == "The terms of service of A Bcc: x@evil.example Z have changed"
