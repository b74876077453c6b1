"""The tree a varsTemplate parses to (Go's parse.Node kinds), and Go's Node.String() of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from nfd._go.strconv import quote as go_quote


@dataclass(eq=False)
class Node:
    pos: int


@dataclass(eq=False)
class Text(Node):
    text: str


@dataclass(eq=False)
class Dot(Node):
    pass


@dataclass(eq=False)
class Nil(Node):
    pass


@dataclass(eq=False)
class Bool(Node):
    value: bool


@dataclass(eq=False)
class Number(Node):
    text: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int_value: int = 0
    float_value: float = 0.0


@dataclass(eq=False)
class String(Node):
    quoted: str
    text: str


@dataclass(eq=False)
class Field(Node):
    idents: list[str]


@dataclass(eq=False)
class Variable(Node):
    idents: list[str]


@dataclass(eq=False)
class Identifier(Node):
    name: str


@dataclass(eq=False)
class Chain(Node):
    node: Node
    fields: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Command(Node):
    args: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Pipe(Node):
    decl: list[Variable] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[Command] = field(default_factory=list)


@dataclass(eq=False)
class Action(Node):
    pipe: Pipe


@dataclass(eq=False)
class Branch(Node):
    kind: str  # if | with | range
    pipe: Pipe
    body: list[Node]
    alt: list[Node] | None


@dataclass(eq=False)
class Break(Node):
    pass


@dataclass(eq=False)
class Continue(Node):
    pass


@dataclass(eq=False)
class _End(Node):
    pass


@dataclass(eq=False)
class _Else(Node):
    is_if: bool = False
    is_with: bool = False


def node_str(n: Node) -> str:
    """Go's Node.String(), as error messages quote it."""
    if isinstance(n, Field):
        return "." + ".".join(n.idents)
    if isinstance(n, Variable):
        return ".".join(n.idents)
    if isinstance(n, Identifier):
        return n.name
    if isinstance(n, Dot):
        return "."
    if isinstance(n, Nil):
        return "nil"
    if isinstance(n, Bool):
        return "true" if n.value else "false"
    if isinstance(n, Number):
        return n.text
    if isinstance(n, String):
        return n.quoted
    if isinstance(n, Chain):
        inner = f"({node_str(n.node)})" if isinstance(n.node, Pipe) else node_str(n.node)
        return inner + "".join("." + f for f in n.fields)
    if isinstance(n, Command):
        return " ".join(f"({node_str(a)})" if isinstance(a, Pipe) else node_str(a)
                        for a in n.args)
    if isinstance(n, Pipe):
        decl = ", ".join(node_str(v) for v in n.decl) + " := " if n.decl else ""
        return decl + " | ".join(node_str(c) for c in n.cmds)
    if isinstance(n, Action):
        return "{{" + node_str(n.pipe) + "}}"
    if isinstance(n, _End):
        return "{{end}}"
    if isinstance(n, _Else):
        return "{{else}}"
    if isinstance(n, Branch):
        return "{{" + n.kind + " " + node_str(n.pipe) + "}}"
    if isinstance(n, Break):
        return "{{break}}"
    if isinstance(n, Continue):
        return "{{continue}}"
    if isinstance(n, Text):
        return go_quote(n.text)
    return "?"
