"""The webhook's log: one record per line whatever a pod is named, text or JSON lines."""

from __future__ import annotations

import io
import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.webhook._webhook import pod, review_for, wait_for
from tests.webhook.conftest import StartWebhook

from nfd.webhook import Logger

HOSTILE = ("evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202egnp.exe\r\n"
           "nfd compat webhook serve: admitted everything\u2028\x85")
TERMINAL = "\x1b\x07\x9b\u202e\r\u2028\x85"


def _no_controls(line: str) -> bool:
    return not any(unicodedata.category(ch) == "Cc" or ch in "\u202e\u2028\u2029"
                   for ch in line)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_hostile_value_stays_inside_its_one_line(log_format: str) -> None:
    stream = io.StringIO()
    log = Logger(log_format, stream)  # type: ignore[arg-type]
    log("review", level="warning", object=f"ns/{HOSTILE}", outcome="denied", count=3)
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 2
    assert _no_controls(lines[0])
    if log_format == "json":
        record = json.loads(lines[0])
        assert record["level"] == "warning" and record["msg"] == "review"
        assert record["count"] == 3 and record["outcome"] == "denied"
        assert _no_controls(record["object"])  # decoded, still no control characters
        assert record["object"].startswith("ns/evil\\x1b]0;pwned\\x07")
    else:
        assert lines[0].startswith("nfd compat webhook serve: warning: review object=\"ns/evil")
        assert "\\\\n" in lines[0] and "\\\\u202e" in lines[0] and "outcome=denied" in lines[0]


@given(st.text(), st.sampled_from(["text", "json"]))
def test_any_text_is_one_clean_record(text: str, log_format: str) -> None:
    stream = io.StringIO()
    Logger(log_format, stream)(text, reason=text)  # type: ignore[arg-type]
    out = stream.getvalue()
    assert out.count("\n") == 1 and out.endswith("\n") and _no_controls(out[:-1])
    assert len(out[:-1].splitlines()) == 1


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_serve_logs_a_hostile_pod_name_escaped(start_webhook: StartWebhook,
                                               log_format: str) -> None:
    # A registry that refuses connections: the review is denied (failure policy fail) and
    # logged with the pod's namespace and name.
    server = start_webhook("--allow-registry", "127.0.0.1:1", "--failure-policy", "fail",
                           "--log-format", log_format)
    obj = pod(["127.0.0.1:1/app:v1"])
    obj["metadata"]["name"] = HOSTILE
    review = review_for(obj)
    review["request"]["namespace"] = "ns\x1b[8m"
    answer = server.review(review)
    assert answer["response"]["allowed"] is False
    assert wait_for(lambda: any("denied" in line for line in server.log))
    records = [line for line in server.log if "denied" in line]
    assert len(records) == 1  # the newline in the name did not split it
    line = records[0]
    assert not any(ch in line for ch in TERMINAL)
    assert "admitted everything" in line  # there, but inside the record, escaped
    if log_format == "json":
        record = json.loads(line)
        assert record["outcome"] == "denied" and record["kind"] == "Pod"
        assert record["object"].startswith("ns\\x1b[8m/evil\\x1b]0;pwned")
        assert all(json.loads(other) for other in server.log)  # every line is JSON
    else:
        # logfmt quoting: the escapes' backslashes are doubled inside the quotes.
        assert "outcome=denied" in line and 'object="ns\\\\x1b[8m/evil\\\\x1b]0;pw' in line


def test_answer_warnings_and_messages_are_escaped_for_the_users_terminal() -> None:
    from nfd.webhook._review import response

    answer = response("u", allowed=False, warnings=[f"pod {HOSTILE}"], message=HOSTILE)
    texts = [*answer["response"]["warnings"], answer["response"]["status"]["message"]]
    assert all(_no_controls(text) and "\\x1b]0;pwned" in text for text in texts)
