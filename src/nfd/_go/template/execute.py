"""Execution of a parsed varsTemplate with Go text/template's semantics (Go 1.19 ``exec.go``).

The structure follows Go's evaluator closely because its error messages
name the node being evaluated (``executing "" at <.x>: ...``): the same
``at`` bookkeeping gives the same text. Every step is counted against a
budget (:mod:`nfd._go.template.budget`: steps, bytes processed, value sizes),
so a spec cannot hang or exhaust the node.
"""

from __future__ import annotations

from typing import Any, NoReturn

from nfd._go.template import nodes as p
from nfd._go.template.budget import Budget
from nfd._go.template.fmt import (
    ANY,
    GoList,
    GoMap,
    elem_type,
    fmt_value,
    go_type,
    kind,
    sprint,
    zero,
)
from nfd._go.template.funcs import FuncError, Function, truth
from nfd._go.template.sprig import FUNCS
from nfd.errors import EvaluationError

_MISSING = object()  # Go's missingVal: no value piped in


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class ExecError(Exception):
    """Go's execution error; ``str()`` is Go's message."""


class State:
    """One execution: the variable stack, the output and the budget."""

    def __init__(self, text: str, budget: Budget, max_chars: int):
        self.text = text
        self.node: p.Node | None = None
        self.vars: list[list[Any]] = []
        self.out: list[str] = []
        self.chars = 0
        self.budget = budget
        self.max_chars = max_chars

    # -- bookkeeping --
    def at(self, node: p.Node) -> None:
        self.node = node
        self.budget.step()

    def errorf(self, message: str) -> NoReturn:
        node = self.node
        if node is None:
            raise ExecError(f"template: : {message}")
        before = self.text[:node.pos]
        line = before.count("\n") + 1
        col = len(before[before.rfind("\n") + 1:].encode())
        ctx = p.node_str(node)  # Go 1.19 quotes the whole node (later Go versions cut it)
        raise ExecError(f'template: :{line}:{col}: executing "" at <{ctx}>: {message}')

    def write(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.max_chars:
            raise EvaluationError(f"varsTemplate: output exceeds {self.max_chars} characters")
        self.out.append(text)

    def var_value(self, name: str) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        self.errorf(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        self.errorf(f"undefined variable: {name}")

    # -- walking --
    def walk(self, dot: Any, nodes: list[p.Node]) -> None:
        for node in nodes:
            self.at(node)
            if isinstance(node, p.Text):
                self.write(node.text)
            elif isinstance(node, p.Action):
                value = self.eval_pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.at(node)
                    self.write("<no value>" if value is None
                               else fmt_value(value, "v", _plain(), 0))
            elif isinstance(node, p.Branch):
                if node.kind == "range":
                    self.walk_range(dot, node)
                else:
                    self.walk_if_with(dot, node)
            elif isinstance(node, p.Break):
                raise _Break
            elif isinstance(node, p.Continue):
                raise _Continue

    def walk_if_with(self, dot: Any, node: p.Branch) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.alt is not None:
                self.walk(dot, node.alt)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: p.Branch) -> None:
        outer = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            mark = len(self.vars)
            items: list[tuple[Any, Any]]
            if isinstance(value, dict):
                items = sorted(value.items())
            elif isinstance(value, list):
                items = list(enumerate(value))
            elif value is None:
                items = []
            else:
                self.errorf(f"range can't iterate over {fmt_value(value, 'v', _plain(), 0)}")
            for key, elem in items:
                self.at(node)
                if node.pipe.decl:
                    self.vars[mark - 1][1] = elem
                if len(node.pipe.decl) > 1:
                    self.vars[mark - 2][1] = key
                try:
                    self.walk(elem, node.body)
                except _Continue:
                    pass
                finally:
                    del self.vars[mark:]
            if not items and node.alt is not None:
                self.walk(dot, node.alt)
        except _Break:
            pass
        finally:
            del self.vars[outer:]

    # -- evaluation --
    def eval_pipeline(self, dot: Any, pipe: p.Pipe) -> Any:
        self.at(pipe)
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.idents[0], value)
            else:
                self.vars.append([var.idents[0], value])
        return value

    def not_a_function(self, args: list[p.Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            self.errorf(f"can't give argument to non-function {p.node_str(args[0])}")

    def eval_command(self, dot: Any, cmd: p.Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, p.Field):
            self.at(first)
            return self.eval_field_chain(dot, dot, first, first.idents, cmd.args, final)
        if isinstance(first, p.Chain):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, p.Identifier):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, p.Pipe):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, p.Variable):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, p.Bool):
            return first.value
        if isinstance(first, p.Dot):
            return dot
        if isinstance(first, p.Nil):
            self.errorf("nil is not a command")
        if isinstance(first, p.Number):
            return self.ideal_constant(first)
        assert isinstance(first, p.String)
        return first.text

    def ideal_constant(self, n: p.Number) -> Any:
        self.at(n)
        text = n.text
        hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(
            c in text for c in "pP")
        if n.is_float and not hex_int and text[0] != "'" and any(c in text for c in ".eEpP"):
            return n.float_value
        if n.is_int:
            return n.int_value
        self.errorf(f"{text} overflows int")

    def eval_chain(self, dot: Any, chain: p.Chain, args: list[p.Node], final: Any) -> Any:
        self.at(chain)
        if isinstance(chain.node, p.Nil):
            self.errorf(f"indirection through explicit nil in {p.node_str(chain)}")
        receiver = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, receiver, chain, chain.fields, args, final)

    def eval_variable(self, dot: Any, var: p.Variable, args: list[p.Node], final: Any) -> Any:
        self.at(var)
        value = self.var_value(var.idents[0])
        if len(var.idents) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.idents[1:], args, final)

    def eval_field_chain(self, dot: Any, receiver: Any, node: p.Node, idents: list[str],
                         args: list[p.Node] | None, final: Any) -> Any:
        for name in idents[:-1]:
            receiver = self.eval_field(name, None, _MISSING, receiver)
        return self.eval_field(idents[-1], args, final, receiver)

    def eval_field(self, name: str, args: list[p.Node] | None, final: Any, receiver: Any) -> Any:
        if receiver is None:
            self.errorf(f'nil data; no entry for key "{name}"')
        if isinstance(receiver, dict):
            if (args is not None and len(args) > 1) or final is not _MISSING:
                self.errorf(f"{name} is not a method but has arguments")
            if name not in receiver:
                self.errorf(f'map has no entry for key "{name}"')
            return receiver[name]
        self.errorf(f"can't evaluate field {name} in type {go_type(receiver)}")

    def eval_function(self, dot: Any, ident: p.Identifier, node: p.Node,
                      args: list[p.Node] | None, final: Any) -> Any:
        self.at(ident)
        return self.eval_call(dot, FUNCS[ident.name], node, args, final)

    def eval_call(self, dot: Any, fn: Function, node: p.Node, args: list[p.Node] | None,
                  final: Any) -> Any:
        argn = list(args[1:]) if args is not None else []
        num_in = len(argn) + (final is not _MISSING)
        fixed = len(fn.params)
        if fn.variadic is not None:
            if num_in < fixed:
                self.errorf(f"wrong number of args for {fn.name}: want at least {fixed} "
                            f"got {len(argn)}")
        elif num_in != fixed:
            self.errorf(f"wrong number of args for {fn.name}: want {fixed} got {num_in}")
        if fn.name in ("and", "or") and fn.builtin:
            value: Any = None
            for arg in argn:
                value = self.eval_arg(dot, "reflect.Value", arg)
                if truth(value) == (fn.name == "or"):
                    return value
            if final is not _MISSING:
                value = self.validate(final, "reflect.Value")
            return value
        argv: list[Any] = []
        for i, arg in enumerate(argn):
            argv.append(self.eval_arg(dot, fn.param(i), arg))
        if final is not _MISSING:
            argv.append(self.validate(final, fn.param(num_in - 1)))
        self.budget.before_call(fn.name, argv)
        try:
            result = fn.impl(argv) if fn.metered is None else fn.metered(argv, self.budget)
        except FuncError as exc:
            self.at(node)
            self.errorf(f"error calling {fn.name}: {exc}")
        return self.budget.after_call(fn.name, result)

    def validate(self, value: Any, typ: str | None) -> Any:
        if value is None:
            if typ is None or typ in ("reflect.Value", ANY):
                return None
            if typ.startswith("map["):
                return zero(typ)
            self.errorf(f"invalid value; expected {typ}")
        if typ in (None, "reflect.Value", ANY) or go_type(value) == typ:
            return value
        self.errorf(f"wrong type for value; expected {typ}; got {go_type(value)}")

    def eval_arg(self, dot: Any, typ: str | None, n: p.Node) -> Any:
        self.at(n)
        if isinstance(n, p.Dot):
            return self.validate(dot, typ)
        if isinstance(n, p.Nil):
            if typ in ("reflect.Value", ANY):
                return None
            if typ is not None and typ.startswith("map["):
                return zero(typ)
            self.errorf(f"cannot assign nil to {typ}")
        if isinstance(n, p.Field):
            self.at(n)
            return self.validate(self.eval_field_chain(dot, dot, n, n.idents, [n], _MISSING),
                                 typ)
        if isinstance(n, p.Variable):
            return self.validate(self.eval_variable(dot, n, [], _MISSING), typ)
        if isinstance(n, p.Pipe):
            return self.validate(self.eval_pipeline(dot, n), typ)
        if isinstance(n, p.Identifier):
            return self.validate(self.eval_function(dot, n, n, None, _MISSING), typ)
        if isinstance(n, p.Chain):
            return self.validate(self.eval_chain(dot, n, [], _MISSING), typ)
        if typ == "bool":
            if isinstance(n, p.Bool):
                return n.value
            self.errorf(f"expected bool; found {p.node_str(n)}")
        if typ == "int":
            if isinstance(n, p.Number) and n.is_int:
                return n.int_value
            self.errorf(f"expected integer; found {p.node_str(n)}")
        if typ == "string":
            if isinstance(n, p.String):
                return n.text
            self.errorf(f"expected string; found {p.node_str(n)}")
        if typ in ("reflect.Value", ANY):
            self.at(n)
            if isinstance(n, p.Bool):
                return n.value
            if isinstance(n, p.Number):
                return self.ideal_constant(n)
            if isinstance(n, p.String):
                return n.text
        self.errorf(f"can't handle {p.node_str(n)} for arg of type {typ}")


def _plain() -> Any:
    from nfd._go.template.fmt import _Spec

    return _Spec()


def execute(text: str, root: list[p.Node], data: Any, max_steps: int, max_chars: int) -> str:
    """Run ``root`` on ``data`` (already typed, see ``wrap_matched``); Go's output text."""
    state = State(text, Budget(max_steps, max_chars), max_chars)
    state.vars.append(["$", data])
    state.walk(data, root)
    return "".join(state.out)


__all__ = ["ExecError", "GoList", "GoMap", "elem_type", "execute", "kind", "sprint"]
