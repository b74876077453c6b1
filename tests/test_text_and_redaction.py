"""The two shared cleaners: terminal controls out of outside text, our secrets out of
server text (property tests: whatever the text, whatever the secret)."""

from __future__ import annotations

import base64
import json
import unicodedata
from pathlib import Path
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from nfd._redact import Redactor
from nfd._text import printable, printable_line
from tests._cli import nfd

SECRETS = st.text(min_size=1, max_size=40).filter(lambda s: "*" not in s)


@given(st.text())
def test_printable_keeps_no_control_but_newline_and_tab(text: str) -> None:
    out = printable(text)
    assert all(unicodedata.category(ch) != "Cc" or ch in "\n\t" for ch in out)
    assert not any(ch in out for ch in "\u202e\u2066\u2028\u200f")
    assert printable(out) == out


@given(st.text())
def test_printable_line_is_one_line(text: str) -> None:
    out = printable_line(text)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert out == out.strip()


def test_printable_removes_the_classic_escapes() -> None:
    assert printable("a\x1b]0;title\x07b\x1b[2Jc\x9b1m\u202e") == (
        "a\\x1b]0;title\\x07b\\x1b[2Jc\\x9b1m\\u202e")
    assert printable("plain text, ünïcödé ✓") == "plain text, ünïcödé ✓"


@given(SECRETS, st.text(max_size=40), st.text(max_size=40), st.sampled_from(
    ["plain", "b64", "basic", "url", "b64url"]))
def test_every_spelling_of_a_secret_is_redacted(secret: str, before: str, after: str,
                                                 spelling: str) -> None:
    user = "bob"
    forms = {
        "plain": secret,
        "b64": base64.b64encode(secret.encode()).decode(),
        "basic": base64.b64encode(f"{user}:{secret}".encode()).decode(),
        "url": quote(secret, safe=""),
        "b64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }
    redactor = Redactor()
    redactor.add(secret, username=user)
    cleaned = redactor.clean(before + forms[spelling] + after)
    assert forms[spelling] not in cleaned
    assert secret not in cleaned


# Bearer tokens as issuers make them: random bytes in base64 (JWTs, service account tokens).
TOKENS = st.binary(min_size=12, max_size=45).map(
    lambda b: base64.urlsafe_b64encode(b).decode()).flatmap(
    lambda t: st.sampled_from([t + "\n", t + " \t\n", t]))


@given(TOKENS, st.sampled_from(["repr", "bytes", "json", "folded", "head", "tail", "lines"]))
def test_every_printed_form_of_a_token_is_redacted(token: str, form: str) -> None:
    """How a token shows up in a program's error: repr with escapes, a bytes repr (an HTTP
    library quoting the header), JSON-escaped, blanks folded, cut short, or wrapped."""
    import json

    middle = len(token) // 2
    printed = {
        "repr": repr(token), "bytes": repr(f"Bearer {token}".encode()),
        "json": json.dumps({"token": token}), "folded": " ".join(f"a {token} b".split()),
        "head": f"value {token[:-2]}", "tail": f"{token[middle:]} rest",
        "lines": f"{token[:middle]}\n{token[middle:]}",
    }[form]
    redactor = Redactor()
    redactor.add(token)
    cleaned = redactor.clean(printed)
    core = token.strip()
    assert core not in cleaned
    for piece in (core[:8], core[-8:], core[:middle][-8:], core[middle:][:8]):
        assert piece not in cleaned, (printed, cleaned)


def test_nothing_known_nothing_changed() -> None:
    assert Redactor().clean("Basic Ym9iOnB3") == "Basic Ym9iOnB3"
    redactor = Redactor()
    redactor.add(None)
    redactor.add("")
    assert redactor.clean("abc") == "abc"
    assert "hunter2" not in repr(redactor)


def test_spec_text_reaches_the_terminal_without_controls(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text('version: v1alpha1\ncompatibilities:\n'
                    '- description: "evil \\e]0;pwned\\a\\e[2J set"\n'
                    '  tag: "t\\e[8m"\n'
                    '  rules:\n'
                    '  - name: "rule \\e[31mred"\n'
                    '    matchFeatures:\n'
                    '    - feature: kernel.loadedmodule\n'
                    '      matchExpressions:\n'
                    '        "mod\\e[1m": {op: Exists}\n')
    features = tmp_path / "features.json"
    features.write_text(json.dumps({"flags": {"kernel.loadedmodule": {"elements": {}}}}))
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features))
    assert proc.returncode == 1, proc.stderr
    assert "evil \\x1b]0;pwned\\x07\\x1b[2J set" in proc.stdout
    assert "RULE: RULE \\x1b[31MRED" in proc.stdout
    assert not any(ch in proc.stdout + proc.stderr for ch in "\x1b\x07")


@given(st.text())
def test_log_field_is_one_line_without_controls(text: str) -> None:
    from nfd._text import log_field

    out = log_field(text)
    assert len(out.splitlines()) <= 1 and "\n" not in out and "\t" not in out
    assert all(unicodedata.category(ch) != "Cc" for ch in out)
    assert not any(ch in out for ch in "\u202e\u2066\u2028\u2029\u200f")
    assert log_field("pod\nname\x1b[2J\u202e") == "pod\\nname\\x1b[2J\\u202e"
