"""Password policies.

Two presets:

* ``length`` (default, NIST SP 800-63B-4 / OWASP ASVS 5): at least 15 characters, up to 256
  accepted, no composition rules; common passwords and the person's own context (name, email,
  username, workspace name) refused, and patterns do not count towards the length: keyboard rows
  (qwerty, qwertz, azerty), sequences (abcd, 4321, 7890123) and repetitions (abcabc, passwordpassword).
* ``composition`` (the AppXite rule, for workspaces that ask for it): at least 10 characters with
  an upper-case letter, a lower-case letter and a digit or symbol; common passwords and context
  refused as well.

Length counts Unicode code points after NFKC normalisation, so "é" typed either way is one.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from admit.domain.errors import ValidationFailed, WeakPassword

MAX_LENGTH = 256
_TRAILING_NOISE = re.compile(r"[\W\d_]+$", re.UNICODE)


class PolicyKind(StrEnum):
    LENGTH = "length"
    COMPOSITION = "composition"


@dataclass(frozen=True)
class Rule:
    code: str
    text: str


@dataclass(frozen=True)
class PasswordPolicy:
    kind: PolicyKind
    min_length: int
    max_length: int = MAX_LENGTH

    @classmethod
    def named(cls, name: str) -> PasswordPolicy:
        try:
            kind = PolicyKind(name)
        except ValueError:
            raise ValidationFailed(
                f"unknown password policy {name!r}; use 'length' or 'composition'",
                field="password_policy",
            ) from None
        return cls(kind, 15 if kind is PolicyKind.LENGTH else 10)

    def rules(self) -> list[Rule]:
        """The rules in words, to show before the person types."""
        rules = [Rule("min_length", f"At least {self.min_length} characters")]
        if self.kind is PolicyKind.COMPOSITION:
            rules += [
                Rule("uppercase", "An upper-case letter"),
                Rule("lowercase", "A lower-case letter"),
                Rule("digit_or_symbol", "A digit or a symbol"),
            ]
        rules += [
            Rule("max_length", f"At most {self.max_length} characters"),
            Rule("no_patterns", "Keyboard rows, sequences and repeats (qwertz, 12345, abcabc) do not count"),
            Rule("not_common", "Not a commonly used password"),
            Rule("not_personal", "Your name, email or the workspace name do not count"),
        ]
        return rules

    def failures(self, password: str, context: Iterable[str] = ()) -> list[Rule]:
        """Every rule the password breaks (empty when it is acceptable)."""
        text = normalise(password)
        failed: list[Rule] = []
        by_code = {rule.code: rule for rule in self.rules()}
        if len(text) > self.max_length:
            failed.append(by_code["max_length"])
        if self.kind is PolicyKind.COMPOSITION:
            if not any(c.isupper() for c in text):
                failed.append(by_code["uppercase"])
            if not any(c.islower() for c in text):
                failed.append(by_code["lowercase"])
            if not any(unicodedata.category(c)[0] in "NPS" for c in text):
                failed.append(by_code["digit_or_symbol"])
        long_enough, essential = len(text) >= self.min_length, without_patterns(text)
        if not long_enough:
            failed.insert(0, by_code["min_length"])
        elif len(essential) < self.min_length:
            failed.append(by_code["no_patterns"])
        if is_common(text) or is_common(essential):  # "passwordpassword" is "password"
            failed.append(by_code["not_common"])
        if long_enough and len(_without_context(text, context)) < self.min_length:
            failed.append(by_code["not_personal"])
        return failed

    def check(self, password: str, context: Iterable[str] = ()) -> None:
        failed = self.failures(password, context)
        if failed:
            raise WeakPassword([rule.text for rule in failed])


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("admit.domain").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in data.splitlines() if line and not line.startswith("#"))


def is_common(text: str) -> bool:
    folded = text.casefold()
    common = _common_passwords()
    if folded in common or _is_repetition(folded):
        return True
    base = _TRAILING_NOISE.sub("", folded)
    return len(base) * 2 > len(folded) and base in common


def _is_repetition(folded: str) -> bool:
    """True for text made of one short unit repeated ("aaaa…", "abcabc…")."""
    for size in range(1, 5):
        unit = folded[:size]
        if len(folded) >= 2 * size and unit * (len(folded) // size) + unit[: len(folded) % size] == folded:
            return True
    return False


# Keyboard rows (qwerty, qwertz, azerty), the alphabet and the digits (9 → 0 → 1 wraps): a run of
# four or more characters stepping the same way along one of these lines is a pattern.
_LINES = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "yxcvbnm",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
)
_MIN_RUN = 4
_MIN_REPEAT = 7  # a unit repeated over 7+ characters counts once ("mississippi" keeps its letters)
_REPEATED_UNIT = re.compile(r"(.{2,}?)\1+", re.IGNORECASE | re.DOTALL)
_REPEATED_CHAR = re.compile(r"(.)\1{2,}", re.IGNORECASE | re.DOTALL)


@cache
def _steps() -> dict[tuple[str, str], frozenset[tuple[int, int]]]:
    """For each pair of neighbouring characters, the (line, direction) steps it can be."""
    steps: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for number, line in enumerate(_LINES):
        for a, b in itertools.pairwise(line):
            steps.setdefault((a, b), set()).add((number, 1))
            steps.setdefault((b, a), set()).add((number, -1))
    return {pair: frozenset(found) for pair, found in steps.items()}


def _pattern_runs(folded: str) -> list[tuple[int, int]]:
    """Spans (start, end) of runs of ``_MIN_RUN`` or more characters along one line, one way."""
    steps, runs = _steps(), []
    start, ways = 0, frozenset[tuple[int, int]]()
    for i in range(1, len(folded)):
        step = steps.get((folded[i - 1], folded[i]), frozenset())
        if i - start > 1:
            step &= ways  # a run keeps its line and its direction
        if not step:
            if i - start >= _MIN_RUN:
                runs.append((start, i))
            step = steps.get((folded[i - 1], folded[i]), frozenset())
            start = i - 1 if step else i  # the broken pair may start the next run
        ways = step
    if len(folded) - start >= _MIN_RUN:
        runs.append((start, len(folded)))
    return runs


def without_patterns(text: str) -> str:
    """The password without its keyboard rows and sequences, and with each repeated unit kept once:
    what is left is what a guesser cannot take for granted."""
    text = normalise(text)
    keep = [True] * len(text)
    for start, end in _pattern_runs("".join(char.lower()[:1] for char in text)):
        keep[start:end] = [False] * (end - start)
    rest = "".join(char for char, kept in zip(text, keep, strict=True) if kept)
    rest = _REPEATED_UNIT.sub(lambda m: m.group(1) if len(m.group(0)) >= _MIN_REPEAT else m.group(0), rest)
    return _REPEATED_CHAR.sub(r"\1", rest)


def _without_context(text: str, context: Iterable[str]) -> str:
    """The password with every context word (4+ characters) taken out, case-insensitively.

    The remainder keeps the password's own characters (no case folding), so its length is
    counted in the same code points as the password's.
    """
    for word in _context_words(context):
        text = re.sub(re.escape(word), "", text, flags=re.IGNORECASE)
    return text


def _context_words(context: Iterable[str]) -> list[str]:
    words: set[str] = set()
    for item in context:
        if not item:
            continue
        item = normalise(item).lower().strip()
        words.add(item)
        if "@" in item:
            words.add(item.split("@", 1)[0])
        words.update(re.split(r"[\s.@_+-]+", item))
    return sorted((w for w in words if len(w) >= 4), key=len, reverse=True)
