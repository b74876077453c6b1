"""The PyYAML-free subset reader gives exactly what the full loader gives, or declines.

Differential throughout: the full loader (``_parse_yaml``, libyaml events) is the oracle,
and for accepted texts PyYAML's pure-Python safe loader too (installs without libyaml).
Values are compared with their types and key order (``True == 1`` in Python).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nfd.api._yaml import DEFAULT_LIMITS, LoadLimits, _parse_yaml, loads_all
from nfd.api._yaml_subset import MAX_TEXT_CHARS, read_subset
from nfd.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
# The specs users write look like these: the subset must read them itself.
TYPICAL_SPECS = [
    ROOT / "examples" / "image-compatibility.yaml",
    ROOT / "benchmarks" / "fleet" / "bench-spec.yaml",
    *sorted((ROOT / "tests" / "webhook" / "data").glob("*.yaml")),
    *sorted((ROOT / "tests" / "cluster" / "data").glob("spec-*.yaml")),
]


def strict(value: Any) -> Any:
    """``value`` with every type and the order of every mapping made explicit."""
    if type(value) is dict:
        return ("map", [(strict(k), strict(v)) for k, v in value.items()])
    if type(value) is list:
        return ("seq", [strict(v) for v in value])
    return (type(value).__name__, value)


def full_loader(text: str) -> Any:
    """What the full loader reads, or the SpecError it raises."""
    try:
        return _parse_yaml(text, DEFAULT_LIMITS)
    except SpecError as exc:
        return exc


def assert_declines_or_agrees(text: str) -> bool:
    """Whether the subset read ``text`` (then exactly as both PyYAML loaders do)."""
    got = read_subset(text, DEFAULT_LIMITS.max_depth)
    if got is None:
        return False
    expected = full_loader(text)
    assert not isinstance(expected, SpecError), f"subset read a text PyYAML rejects: {text!r}"
    assert strict(got) == strict(expected), text
    pure = list(yaml.load_all(text, Loader=yaml.SafeLoader))
    assert strict(got) == strict(pure), text
    return True


def repo_yaml_texts() -> list[tuple[str, str]]:
    """Every YAML document in the repository: files and the README's yaml code blocks."""
    files = [*ROOT.glob("examples/*.yaml"), *ROOT.glob("benchmarks/**/*.yaml"),
             *ROOT.glob("src/nfd/examples/*.yaml"), *ROOT.glob("tests/**/*.yaml")]
    texts = [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted(files)]
    for doc in ("README.md", "SECURITY.md", "tests/fixtures/README.md"):
        blocks = re.findall(r"```ya?ml\n(.*?)```", (ROOT / doc).read_text(), re.S)
        texts += [(f"{doc} block {i}", block) for i, block in enumerate(blocks)]
    return texts


def test_the_repository_documents_decline_or_agree() -> None:
    texts = repo_yaml_texts()
    read = [name for name, text in texts if assert_declines_or_agrees(text)]
    assert len(texts) >= 20
    assert "README.md block 0" in read  # the README's example spec


@pytest.mark.parametrize("path", TYPICAL_SPECS, ids=lambda p: p.name)
def test_typical_specs_are_read_by_the_subset(path: Path) -> None:
    assert assert_declines_or_agrees(path.read_text())


def test_a_typical_spec_is_read_without_importing_pyyaml() -> None:
    spec = ROOT / "examples" / "image-compatibility.yaml"
    code = ("import sys; from nfd.api import load_spec; "
            "spec = load_spec(sys.argv[1]); "
            "print(len(spec.compatibilities), sorted(m for m in sys.modules "
            "if m == 'yaml' or m.startswith(('yaml.', '_yaml'))))")
    out = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert out.split() == ["1", "[]"]


def test_a_broken_spec_still_gets_the_located_error() -> None:
    # Outside the subset (a duplicate key): the full loader words the error.
    text = "version: v1alpha1\ncompatibilities:\n- rules: []\n  rules: []\n"
    assert read_subset(text, 100) is None
    with pytest.raises(SpecError, match="line 4, column 3: duplicate key 'rules'"):
        loads_all(text, source="spec.yaml")


# Inside the subset: read, and equal to PyYAML's reading.
READ = [
    "a: 1\nb: -2\nc: +3\nd: 0\ne: yes\nf: Off\ng: ~\nh: null\ni:\nj: 'x'\nk: \"y\"\n",
    "y: n\nY: N\n'on': on\nTrue: tRUE\nNULL: x\n2: two\n-1: minus\n",
    "k:\n- a\n- b\nother: 1\n",
    "- a: 1\n  b:\n  - x\n  c: 2\n- - p\n  - q\n-\n  z: 1\n- # comment\n  w: 2\n-\n",
    "a:\n    deep:\n        deeper: x\n    back: y\nb: z\n",
    "f: {op: In, value: [\"x\", 'y', z, [1, {n: m}]], e: {}, s: []}\n",
    "a: b#c\nd: e # comment\n# whole line\n   # indented comment\n\nf: g   \n",
    "key with spaces: value with spaces\nkey:with:colons: http://x.y/z?q=1\n",
    "'it''s': 'a ''quote'''\n\"#\": \"a # not a comment\"\n'': \"\"\n",
    "ключ: значение\n日本: '語'\nsmile: 😀\n",
    "  indented: root\n  second: key\n",
    "a : spaced colon\n'q' : quoted key\nb: c]{,\n",
    "-   a: wide\n    b: dash\n",
    "x: [ a , b ]\ny: { k : v , l : w }\n",
]

# Outside the subset: declined (the full loader reads them, or words their error).
DECLINED = [
    "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  text\n", "a: >\n  text\n", "? a\n: b\n",
    "%YAML 1.1\n---\na: 1\n", "---\na: 1\n", "a: 1\n...\n", "a: 1\n---\nb: 2\n",
    "<<: {a: 1}\n", "a: 1\na: 2\n", "1: a\ntrue: b\n", "a: plain\n  continued\n",
    "a: 'quoted\n  continued'\n", "a: [1,\n  2]\n", "a: \"x\\ty\"\n", "\ta: 1\n", "a: 1\r\n",
    "\ufeffa: 1\n", "a: x\u2028y\n", "a: \x85\n", "a: 1.5\n", "a: 1e3\n", "a: 0x10\n",
    "a: 010\n", "a: 1_000\n", "a: 1:30\n", "a: 2024-01-02\n", "a: .inf\n", "a: =\n",
    "a: [1, 2, ]\n", "a: {b}\n", "a: {b: }\n", "a: {b:c}\n", "a: [b: c]\n", "a: - b\n",
    "a: b: c\n", "a: 'x'y\n", "a: [x]#c\n", "just a scalar\n", "a: 1\n- b\n",
    "a:\n  b: 1\n c: 2\n", "- a\n  b\n", "a: 'x\n", "{a: 1}: b\n", "a: @x\n", "a: `x\n",
    "nb: \xa0x\n",  # other spaces than " " (PyYAML reads it: a string)
    "a" * 1100 + ": long key\n",
]


@pytest.mark.parametrize("text", READ)
def test_in_the_subset(text: str) -> None:
    assert assert_declines_or_agrees(text)


@pytest.mark.parametrize("text", DECLINED)
def test_outside_the_subset(text: str) -> None:
    assert read_subset(text, 100) is None
    full_loader(text)  # the authority reads it or raises a SpecError, nothing else


def nested(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels)) + "  " * levels + "b: 1\n"


@pytest.mark.parametrize("text", [nested(5), "a: [[[[1]]]]\n", "- - - - - x\n"])
def test_depth_bound_is_the_full_loaders(text: str) -> None:
    for max_depth in range(7):
        subset = read_subset(text, max_depth)
        try:
            _parse_yaml(text, LoadLimits(max_depth=max_depth))
        except SpecError:
            assert subset is None
        else:
            assert subset is not None


def test_texts_bigger_than_a_spec_are_left_to_the_full_loader() -> None:
    line = "- item\n"
    assert read_subset(line * (MAX_TEXT_CHARS // len(line)), 100) is not None
    assert read_subset(line * (MAX_TEXT_CHARS // len(line) + 1), 100) is None


def test_deep_documents_are_left_to_the_full_loader() -> None:
    assert read_subset(nested(99), 1000) is not None  # 100 mappings deep
    assert read_subset(nested(100), 1000) is None  # 101: past the subset's own bound


# --- Texts from a grammar: block and flow nodes with random layout, then mutations.

SAFE_WORDS = ["a", "vendor_id", "kernel.loadedmodule", "hugepages-2Mi", "VERSION_ID.major",
              "In", "Exists", "my key", "a#b", "a:b", "http://x/y", "ключ", "x?y", "yes", "No",
              "ON", "off", "true", "FALSE", "y", "N", "~", "null", "Null", "0", "7", "-3",
              "+12", "it's", "b]", "c,d", "e}"]
# In a flow collection ":", "#", "?", "," and brackets end a plain word or decline.
SAFE_FLOW_WORDS = [w for w in SAFE_WORDS if not set(w) & set(":#?,[]{}")]
EDGE_WORDS = ["00", "010", "0x1f", "1_000", "1:30", "1.5", "1e3", "1.0e+3", ".inf",
              ".5", "2024-01-02", "<<", "=", "!x", "&a", "*a", "|", ">", "%x", "@x", "`x", "?",
              "? x", ":x", "x:", "x: y", "#x", "x #y", "-", "- x", "-x", "---", "...", "[x]",
              "{x: y}", "a\\b", "\xa0", "\u3000x", "\u200bx", "x\ty", "x\u2028y", "", " x",
              "1" * 120, "99999999999999999999", "tRUE", "NuLL"]
# What the subset takes in quotes: printable characters (no other spaces than " ", no
# format characters), no backslash; a double quote is written only in single quotes.
QUOTE_ALPHABET = st.characters(codec="utf-8", exclude_characters="\\\"",
                               exclude_categories=("C", "Z"), include_characters=" ")
EDGE_ALPHABET = st.sampled_from(list(" :#'\"-?,[]{}!&*|>%@`~.\\ab01\t\xa0é"))


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scalars(edgy: bool, flow: bool = False) -> st.SearchStrategy[str]:
    """Scalars as written in YAML: plain words and quoted strings; in edgy mode one in
    sixteen is an odd word or odd text written as it stands (more would make nearly every
    text decline, and the interesting texts are those with one odd part)."""
    words = st.sampled_from(SAFE_FLOW_WORDS if flow else SAFE_WORDS)
    quoted = st.text(QUOTE_ALPHABET, max_size=6)
    safe = st.one_of(words, quoted.map(single_quoted), quoted.map(lambda t: f'"{t}"'))
    if not edgy:
        return safe
    odd_words = st.sampled_from(EDGE_WORDS)
    raw = st.text(EDGE_ALPHABET, min_size=1, max_size=6)
    odd = st.one_of(odd_words, raw, raw.map(lambda t: f"'{t}'"), raw.map(lambda t: f'"{t}"'),
                    odd_words.map(single_quoted))
    return st.integers(0, 15).flatmap(lambda n: odd if n == 0 else safe)


def key_text(item: tuple[str, Any]) -> str:
    """Mostly distinct keys: a few duplicates remain (``yes`` and ``on``), to be declined."""
    return item[0].strip("'\"")


def flow_nodes(edgy: bool) -> st.SearchStrategy[Any]:
    words = scalars(edgy, flow=True)
    return st.recursive(
        words,
        lambda kids: st.one_of(
            st.tuples(st.just("fseq"), st.lists(kids, max_size=3)),
            st.tuples(st.just("fmap"), st.lists(st.tuples(words, kids), max_size=3,
                                                unique_by=key_text))),
        max_leaves=5)


def collections(kids: st.SearchStrategy[Any], edgy: bool) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(st.just("seq"), st.lists(kids, min_size=1, max_size=3)),
        st.tuples(st.just("map"), st.lists(st.tuples(scalars(edgy), kids), min_size=1,
                                           max_size=3, unique_by=key_text)))


def block_nodes(edgy: bool) -> st.SearchStrategy[Any]:
    """A block mapping or sequence, of block nodes, flow nodes, scalars and empty values."""
    leaf = st.one_of(scalars(edgy), flow_nodes(edgy), st.just(("empty",)))
    return collections(st.recursive(leaf, lambda kids: collections(kids, edgy),
                                    max_leaves=10), edgy)


def flow_text(node: Any, rng: random.Random) -> str:
    def gap() -> str:
        return " " * rng.randint(0, 1)

    if isinstance(node, str):
        return node
    if node[0] == "fseq":
        return "[" + gap() + ("," + gap()).join(flow_text(n, rng) for n in node[1]) + "]"
    items = (f"{k}{gap()}: {flow_text(v, rng)}" for k, v in node[1])
    return "{" + gap() + (", " + gap()).join(items) + gap() + "}"


def block_lines(node: Any, indent: int, rng: random.Random, edgy: bool) -> list[str]:
    """``node`` laid out at ``indent``; scalars and flow nodes give one line (no newline)."""
    pad = " " * indent
    if is_block(node):
        lines: list[str] = []
        for item in node[1]:
            lines += (seq_item if node[0] == "seq" else map_item)(item, indent, rng, edgy)
            if rng.randint(0, 9) == 0:
                lines.append(" " * rng.randint(0, indent + 2) + "# between")
        return lines
    if node == ("empty",):
        return [pad]
    return [pad + flow_text(node, rng) + comment(rng, edgy)]


def comment(rng: random.Random, edgy: bool) -> str:
    return rng.choice(["", "", "", " # c", "   #c: d", " "] + (["#c"] if edgy else []))


def is_block(node: Any) -> bool:
    return not isinstance(node, str) and node[0] in ("seq", "map")


def map_item(item: tuple[str, Any], indent: int, rng: random.Random, edgy: bool) -> list[str]:
    key, value = item
    head = " " * indent + key + rng.choice([":", ":", " :"] if edgy else [":"])
    if value == ("empty",):
        return [head + comment(rng, edgy)]
    if not is_block(value):
        return [head + " " * rng.randint(1, 2) + block_lines(value, 0, rng, edgy)[0]]
    step = rng.randint(0 if value[0] == "seq" else 1, 3)
    return [head + comment(rng, edgy), *block_lines(value, indent + step, rng, edgy)]


def seq_item(value: Any, indent: int, rng: random.Random, edgy: bool) -> list[str]:
    dash = " " * indent + "-"
    if value == ("empty",):
        return [dash + comment(rng, edgy)]
    spaces = rng.randint(1, 3)
    if is_block(value) and rng.random() < 0.5:  # on the lines below the "-"
        return [dash + comment(rng, edgy),
                *block_lines(value, indent + rng.randint(1, 3), rng, edgy)]
    lines = block_lines(value, indent + 1 + spaces, rng, edgy)  # compact: "- a: 1", "- - x"
    return [dash + " " * spaces + lines[0].lstrip(" "), *lines[1:]]


MUTATION_LINES = ["  - x", "x", "---", "...", "  # c", "a: b", "\t- x", "%YAML 1.1", "- &a x",
                  "k: *a", "k: !!str x", "k: |", "  text", "? k", ": v", "<<: {a: 1}", "k: [a,",
                  "  b]", "k: 'a", "  b'", "-", "k:"]


BLOCK_NODES = {edgy: block_nodes(edgy) for edgy in (False, True)}


@st.composite
def texts(draw: Any, edgy: bool) -> str:
    """A text from the grammar: a tree drawn (and shrunk) by Hypothesis, laid out by a
    seeded random source (drawing each layout choice made generation ten times slower)."""
    root = draw(BLOCK_NODES[edgy])
    rng = random.Random(draw(st.integers(0, 2**32)))
    lines = block_lines(root, rng.randint(0, 2), rng, edgy)
    for _ in range(rng.choice([0, 0, 0, 1, 2]) if edgy else 0):
        at = rng.randint(0, len(lines))
        kind = rng.choice(["insert", "shift", "duplicate"])
        if kind == "insert":
            lines.insert(at, " " * rng.randint(0, 4) + rng.choice(MUTATION_LINES))
        elif lines and kind == "shift":
            line = lines[at % len(lines)]
            lines[at % len(lines)] = " " * rng.randint(0, 5) + line.lstrip(" ")
        elif lines:
            lines.insert(at, lines[at % len(lines)])
    return "\n".join(lines) + rng.choice(["\n", "", "\n\n"])


SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(texts(edgy=False))
def test_texts_in_the_subset_are_read_exactly(text: str) -> None:
    # Safe words, quotes without escapes, layouts YAML allows: read unless PyYAML refuses
    # the text (a duplicate key), and then declined.
    rejected = isinstance(full_loader(text), SpecError)
    assert assert_declines_or_agrees(text) is not rejected, text


@SETTINGS
@given(texts(edgy=True))
def test_texts_at_the_edges_decline_or_agree(text: str) -> None:
    event("read" if assert_declines_or_agrees(text) else "declined")
