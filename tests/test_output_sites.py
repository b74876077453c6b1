"""Every place nfd-client prints or logs, found by reading the source (AST), passes outside text
through the one sanitizer (``nfd._text``), or is listed below with the reason it needs none.

A new ``print(...)``, ``.write(...)`` or webhook log call whose argument is not a
constant, a sanitizer call, or an ``!a`` conversion fails this test until it is
wrapped in ``printable_line()`` (or ``printable()`` / ``log_field()``) or reviewed
here. In the webhook nothing prints but its logger (``nfd/webhook/_log.py``),
which sanitizes every message and field itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import nfd

SRC = Path(nfd.__file__).parent
SANITIZERS = frozenset({"printable", "printable_line", "log_field",
                        # nfd/cli/_base.py: printable_line() of the error, then the redactor.
                        "_one_line", "_message", "_redacted",
                        # Numbers.
                        "len", "int"})
ASCII = ord("a")  # f"{x!a}": ascii() escapes every control and non-ASCII character

# (module, argument as written): why no sanitizer is needed there.
REVIEWED: dict[tuple[str, str], str] = {
    ("_budget_httpx.py", "buffer"): "a socket write, not output",
    ("_budget_httpx.py", "self._timeout(timeout)"): "a socket write, not output",
    ("cluster/_fork.py", "payload"): "the pipe from a forked worker to its parent",
    ("sources/_native.py", "code"): "machine code written to an executable page",
    ("cli/_write.py", "text"): "a file the user asked for (data, written atomically)",
    ("cli/compat_get_spec.py", "fetched.data"): "the stored spec unchanged to a pipe or file "
                                                "(data); a terminal gets printable()",
    ("cli/__init__.py", "_usage()"): "our own command list",
    ("cli/__init__.py", "__version__"): "ours",
    ("cli/__init__.py", "group"): "the user's own argv (trusted, SECURITY.md)",
    ("cli/__init__.py", "name"): "the user's own argv (trusted, SECURITY.md)",
    ("cli/__init__.py", "_suggest(group, [*COMMANDS, *TOP_COMMANDS])"): "our command names",
    ("cli/__init__.py", "_suggest(name, list(commands))"): "our command names",
    ("cli/_base.py", "parser.prog"): "our program name",
    ("cli/_base.py", "type(exc).__name__"): "a class name of ours or Python's",
    ("cli/compat_affinity.py", "PROG"): "our program name",
    ("cli/compat_remove_spec.py", "PROG"): "our program name",
    ("cli/_output.py", "dumps(obj, indent=2) + '\\n'"):
        "JSON (data; the encoder escapes control characters, byte-identical to NFD's)",
    ("cli/_output.py", "dump_yaml(obj)"): "YAML (data; the emitter quotes and escapes "
                                          "non-printable characters)",
    ("cli/compat_affinity.py", "dump_yaml(doc)"): "YAML (data)",
    ("cli/compat_affinity.py", "manifest.dump(manifest.trees)"):
        "the user's own manifest written back as YAML (data; ruamel quotes what needs it)",
    ("cluster/_kube_client.py", "data"): "a client certificate into a private temporary file",
    ("cli/compat_webhook_manifests.py", "'---\\n'.join((dump_yaml(obj) for obj in objects))"):
        "YAML (data)",
    ("cli/compat_validate_node.py", "dumps(nfd_report(result))"): "JSON (data), as NFD's",
    ("cli/export_features.py", "text + '\\n'"): "JSON (data), as NFD's",
    ("cli/export_labels.py", "text + '\\n'"): "JSON (data), as NFD's",
    ("cli/export_labels.py", "shown"): "built with !a conversions (ascii) just above",
    ("cli/export_labels.py", "more"): "a count",
    ("cli/compat_validate_spec.py", "source"): "the spec's file name or reference: the "
                                               "user's own argument",
    ("cli/compat_validate_spec.py", "sets"): "a count",
    ("cli/compat_validate_spec.py", "rules"): "a count",
    ("cli/compat_validate_spec.py", "'s' * (sets != 1)"): "ours",
    ("cli/compat_validate_spec.py", "'s' * (rules != 1)"): "ours",
    ("cli/compat_validate_spec.py",
     "', ' + str(len(findings)) + ' warning(s)' if findings else ''"): "a count",
    ("cli/compat_list.py", "args.image"): "the user's own argument",
    ("cli/compat_list.py", "render_table([headers, *(_row(a, verified) for a in items)], "
                           "terminal_width(sys.stdout))"):
        "every cell made with printable_line() in _row()",
    ("cli/compat_attach_spec.py", "result.image"): "the user's own --image, normalised",
    ("cli/compat_attach_spec.py", "result.artifact_digest"): "computed here from the bytes",
    ("cli/compat_attach_spec.py", "result.referrers_tag"): "derived from a checked digest",
    ("cli/_table.py", "_heading(status.number, status, paint)"):
        "tags and descriptions through printable_line() in _heading()",
    ("cli/_table.py", "'\\n'.join(lines) + '\\n'"): "table cells through printable_line() "
                                                     "in render_table()",
    ("cli/_table.py", "paint(f'COMPATIBLE: set {which} matches this node.', GREEN, BOLD) "
                      "+ '\\n'"): "set tags through printable_line() where `which` is built",
    ("cli/_table.py", "paint('NOT COMPATIBLE: no compatibility set matches this node.', "
                      "RED, BOLD) + '\\n'"): "constant",
    ("cli/compat_validate_cluster.py", "render_cluster_table(result, use_colour(sys.stdout), "
                                       "terminal_width(sys.stdout))"):
        "node names, set titles and reasons through printable_line() in its table",
    ("cli/completion.py", "script(commands)"): "our own command and option names",
    ("cli/_output.py", "text"): "JSON bytes (data), as NFD's",
    ("cli/_output.py", "text.decode()"): "JSON (data), as NFD's",
    ("cli/compat_affinity.py", "''.join((f'#   {line}\\n' for line in text.splitlines()))"):
        "YAML (data), commented out",
    ("cli/compat_affinity.py", "text"): "YAML (data)",
    ("cli/compat_attach_spec.py", "would"): "ours",
    ("cli/compat_attach_spec.py", "PROG"): "our program name",
    ("cli/compat_attach_spec.py", "errors"): "a count",
    ("cli/compat_remove_spec.py", "verb"): "ours",
    ("cli/compat_audit.py", "uses"): "a count",
    ("cli/compat_audit.py", "title.upper()"): "ours",
    ("cli/compat_audit.py",
     "f'checked {result.checked} pod image(s): {drifted} on a node that does not satisfy the "
     "image' + (f', {len(result.unsatisfiable)} workload image(s) no node satisfies' if "
     "result.unsatisfiable else '')"): "counts",
    ("cli/compat_explain.py", "_text(doc)"): "our own reference text (ops, types, features)",
    ("cli/compat_generate.py", "shown"): "built with printable_line() just above",
    ("cli/compat_generate.py", "more"): "a count",
    ("cli/compat_generate.py", "verb"): "ours",
    ("cli/compat_generate.py", "result.artifact_digest"): "computed here from the bytes",
    ("cli/compat_generate.py", "result.image"): "the user's own --from-image, normalised",
    ("cli/compat_generate.py", "text"): "the generated spec (data, YAML or JSON)",
    ("cli/compat_validate_node.py", "PROG"): "our program name",
    ("cli/compat_validate_node.py", "note"): "discovery_notes(): host text through "
                                              "printable_line() or !a",
    ("cli/export_features.py", "note"): "discovery_notes(): host text through "
                                         "printable_line() or !a",
    ("cli/export_features.py", "json.dumps({**result.metadata, 'sources': "
                               "source_status(result)}, sort_keys=True)"):
        "JSON with ensure_ascii: every control escaped",
    ("cli/export_features.py", "args.path"): "the user's own --path",
    ("cli/export_features_d.py", "text"): "the features.d file (data)",
    ("cli/compat_what_if.py", "now"): "counts",
    ("cli/compat_what_if.py", "verdict"): "ours",
    ("cli/version.py", "found['clientVersion']"): "ours",
    ("cli/version.py", "found['nfdReferenceVersion']"): "ours",
    ("cli/version.py", "found['pythonVersion']"): "Python's",
    ("webhook/_log.py", "line"): "Logger.render(): the message and every field through "
                                 "log_field(), JSON with ensure_ascii",
}


def _safe(node: ast.expr, aliases: frozenset[str] = frozenset()) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(_safe_part(part, aliases) for part in node.values)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else "")
        return name in SANITIZERS or name in aliases
    if isinstance(node, ast.BinOp):
        return _safe(node.left, aliases) and _safe(node.right, aliases)
    if isinstance(node, ast.IfExp):
        return _safe(node.body, aliases) and _safe(node.orelse, aliases)
    return False


def _safe_part(part: ast.expr, aliases: frozenset[str] = frozenset()) -> bool:
    if not isinstance(part, ast.FormattedValue):
        return True
    return part.conversion == ASCII or _safe(part.value, aliases)


def _unsafe_parts(arg: ast.expr, aliases: frozenset[str] = frozenset()) -> list[str]:
    if isinstance(arg, ast.JoinedStr):
        return [ast.unparse(p.value) for p in arg.values if not _safe_part(p, aliases)
                and isinstance(p, ast.FormattedValue)]
    return [] if _safe(arg, aliases) else [ast.unparse(arg)]


def _aliases(tree: ast.AST) -> frozenset[str]:
    """Local names of the sanitizers (``from nfd._text import printable_line as clean``)."""
    return frozenset(alias.asname for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module == "nfd._text"
                     for alias in node.names if alias.asname and alias.name in SANITIZERS)


def _is_output(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    return isinstance(func, ast.Attribute) and func.attr == "write"


def output_sites() -> Iterator[tuple[str, int, ast.Call, frozenset[str]]]:
    """(module, line, call, sanitizer aliases) for every print and write call in nfd."""
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        if module.startswith("_go/"):  # Go's template engine writes into its own buffers
            continue
        tree = ast.parse(path.read_text(), str(path))
        aliases = _aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_output(node):
                yield module, node.lineno, node, aliases


def test_every_print_and_log_site_sanitizes_outside_text() -> None:
    unreviewed = []
    used = set()
    for module, line, call, aliases in output_sites():
        for arg in [*call.args, *(k.value for k in call.keywords if k.arg not in (
                "file", "flush", "level", "end", "sep"))]:
            for part in _unsafe_parts(arg, aliases):
                if (module, part) in REVIEWED:
                    used.add((module, part))
                else:
                    unreviewed.append(f"{module}:{line}: {part}")
    assert not unreviewed, ("outside text may reach the terminal or log unsanitized; wrap it "
                            "in printable_line() or review it in REVIEWED:\n"
                            + "\n".join(unreviewed))
    assert set(REVIEWED) == used, f"stale REVIEWED entries: {set(REVIEWED) - used}"


def test_the_webhook_prints_only_through_its_logger() -> None:
    printing = [f"{module}:{line}" for module, line, _, _ in output_sites()
                if (module.startswith("webhook/") and module != "webhook/_log.py")
                or module == "cli/compat_webhook_serve.py"]
    assert printing == []
    # Its log calls reach Logger (the only Log there is), which sanitizes every value.
    for path in (SRC / "webhook").glob("*.py"):
        if path.name == "_log.py":
            continue
        text = path.read_text()
        assert "sys.stderr" not in text and "sys.stdout" not in text, path.name
        assert "import logging" not in text, path.name


@pytest.mark.parametrize("unsafe", ["print(f'{pod.name}')", "sys.stderr.write(reason)",
                                    "print('x', reason)", "stream.write(f'{a!r}')"])
def test_the_scan_catches_an_unsanitized_site(unsafe: str) -> None:
    call = ast.parse(unsafe).body[0]
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    assert _is_output(call.value)
    args = [*call.value.args, *(k.value for k in call.value.keywords)]
    assert any(_unsafe_parts(arg) for arg in args)
