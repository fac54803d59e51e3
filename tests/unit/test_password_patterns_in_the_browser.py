"""The page checks the pattern rule as the person types (static/password.js); the server decides
(``admit.domain.passwords.without_patterns``). Both must agree, or a person sees a rule ticked that
the server then refuses: the browser's copy runs here in Node on the same passwords."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from admit.domain.passwords import without_patterns

SCRIPT = Path(__file__).resolve().parents[2] / "src/admit/entrypoints/web/static/password.js"

FIXED = [
    "passwordpassword",
    "passwortpasswort",
    "123456789012345",
    "qwertzuiopasdfgh",
    "azertyuiopqsdfgh",
    "mississippi-river",
    "abcabcabcabcabc1",
    "ÄÖÜäöüßẞİ-long-pass",
    "12121212121212121",
    "correct-horse-battery-staple",
    "9876543210-xyz",
    "were there where",
    "AbCdEfGh-QWERTZ",
    "ﬀﬁﬂ-ligatures-１２３４",  # NFKC turns these into letters and digits
    "😀😀😀😀 emoji 😀😀😀",
]


def corpus() -> list[str]:
    rng = random.Random(2026)
    alphabet = "qwertzuiopasdfghjklyxcvbnm1234567890QWERTZ-!ßé"
    made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(150)]
    made += [
        rng.choice(["abc", "qwer", "1234", "pass", "xy"]) * rng.randint(1, 6) + str(rng.randint(0, 999))
        for _ in range(50)
    ]
    return FIXED + made


def test_the_browser_and_the_server_take_the_same_patterns_out() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (make test installs it)")
    source = SCRIPT.read_text()
    block = re.search(r"  var LINES[\s\S]*?\n  function withoutPatterns[\s\S]*?\n  }\n", source)
    assert block, "password.js no longer defines withoutPatterns"
    passwords = corpus()
    program = block.group(0) + "\nconsole.log(JSON.stringify(JSON.parse(process.argv[1]).map(withoutPatterns)));"
    done = subprocess.run(
        [node, "-e", program, json.dumps(passwords)], capture_output=True, text=True, check=True, timeout=60
    )
    browser = json.loads(done.stdout)
    mismatches = [
        (p, b, without_patterns(p)) for p, b in zip(passwords, browser, strict=True) if b != without_patterns(p)
    ]
    assert mismatches == []
