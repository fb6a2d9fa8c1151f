"""Nodes: plain Python functions with named inputs and outputs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, overload

from modelwright.errors import InvalidInput

__all__ = ["PARAMETERS", "PARAMS_PREFIX", "Node", "as_node", "is_param", "node"]

F = TypeVar("F", bound=Callable[..., Any])

PARAMS_PREFIX = "params:"
PARAMETERS = "parameters"  # the input name that receives every parameter as one dict

Inputs = str | Sequence[str] | Mapping[str, str] | None
Outputs = str | Sequence[str] | None


@dataclass(frozen=True)
class Node:
    """A function with named inputs (datasets, ``params:key`` or ``parameters``) and outputs.

    ``inputs`` are passed positionally, or by keyword when given as ``{argument: name}``. With
    one output the function returns the value; with several, a tuple/list in that order or a
    dict by output name. Nodes are immutable: ``tag`` returns a new node.
    """

    func: Callable[..., Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    name: str
    tags: frozenset[str] = frozenset()
    cache: bool = True
    # The function's argument for each input, when inputs were given as a mapping.
    arguments: tuple[str, ...] | None = field(default=None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Node({self.name}: {list(self.inputs)} -> {list(self.outputs)})"

    def tag(self, *tags: str) -> Node:
        return replace(self, tags=self.tags | frozenset(tags))

    @property
    def params(self) -> tuple[str, ...]:
        """The parameter keys this node reads (``params:a.b`` → ``a.b``)."""
        return tuple(i.removeprefix(PARAMS_PREFIX) for i in self.inputs if is_param(i))

    @property
    def dataset_inputs(self) -> tuple[str, ...]:
        return tuple(i for i in self.inputs if not is_param(i))

    def call(self, values: Sequence[Any]) -> dict[str, Any]:
        """Run the function on input values (in ``inputs`` order); outputs by name."""
        if self.arguments is None:
            result = self.func(*values)
        else:
            result = self.func(**dict(zip(self.arguments, values, strict=True)))
        return self.split_outputs(result)

    def split_outputs(self, result: Any) -> dict[str, Any]:
        if not self.outputs:
            return {}
        if len(self.outputs) == 1:
            return {self.outputs[0]: result}
        if isinstance(result, Mapping):
            if set(result) != set(self.outputs):
                raise ValueError(
                    f"node '{self.name}' returned keys {sorted(map(str, result))}, "
                    f"expected {sorted(self.outputs)}"
                )
            return {o: result[o] for o in self.outputs}
        if not isinstance(result, list | tuple) or len(result) != len(self.outputs):
            got = len(result) if isinstance(result, list | tuple) else type(result).__name__
            raise ValueError(
                f"node '{self.name}' must return {len(self.outputs)} values "
                f"{list(self.outputs)} as a tuple, list or dict (got {got})"
            )
        return dict(zip(self.outputs, result, strict=True))


def is_param(name: str) -> bool:
    return name == PARAMETERS or name.startswith(PARAMS_PREFIX)


def _names(value: Outputs, what: str, node_name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise InvalidInput(
                f"node '{node_name}': {what} names must be non-empty strings (got {n!r})",
                details={"node": node_name, "field": what},
            )
    if len(set(names)) != len(names):
        raise InvalidInput(
            f"node '{node_name}': {what} {list(names)} repeat a name",
            details={"node": node_name, "field": what},
        )
    return names


def _check_signature(
    func: Callable[..., Any], name: str, inputs: tuple[str, ...], arguments: tuple[str, ...] | None
) -> None:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature: nothing to check
        return
    try:
        if arguments is None:
            sig.bind(*inputs)
        else:
            sig.bind(**dict.fromkeys(arguments))
    except TypeError as exc:
        params = ", ".join(sig.parameters) or "no arguments"
        raise InvalidInput(
            f"node '{name}': function {getattr(func, '__qualname__', func)!r} takes ({params}) "
            f"but the node gives it {len(inputs)} input(s) {list(inputs)}: {exc}",
            details={"node": name, "field": "inputs"},
        ) from None


def _make(
    func: Callable[..., Any],
    inputs: Inputs,
    outputs: Outputs,
    *,
    name: str | None,
    tags: Iterable[str],
    cache: bool,
) -> Node:
    if not callable(func):
        raise InvalidInput(f"node: expected a function, got {type(func).__name__}")
    node_name = name or getattr(func, "__name__", "") or repr(func)
    arguments: tuple[str, ...] | None = None
    if isinstance(inputs, Mapping):
        arguments = tuple(inputs)
        ins = tuple(inputs.values())
        if not all(isinstance(n, str) and n for n in ins):
            raise InvalidInput(f"node '{node_name}': inputs names must be non-empty strings")
    else:
        ins = _names(inputs, "inputs", node_name)
    outs = _names(outputs, "outputs", node_name)
    for o in outs:
        if is_param(o):
            raise InvalidInput(
                f"node '{node_name}': output '{o}' is a parameter name; parameters come from "
                "configuration, not from nodes",
                details={"node": node_name, "field": "outputs"},
            )
    _check_signature(func, node_name, ins, arguments)
    return Node(func, ins, outs, node_name, frozenset(tags), cache, arguments)


NODE_ATTRIBUTE = "__modelwright_node__"


def as_node(item: Node | Callable[..., Any]) -> Node:
    """A node, or a function decorated with ``@node(...)``, as a ``Node``."""
    if isinstance(item, Node):
        return item
    found = getattr(item, NODE_ATTRIBUTE, None)
    if isinstance(found, Node):
        return found
    raise InvalidInput(
        f"pipeline: {item!r} is not a node; wrap it with node(fn, inputs=..., outputs=...) "
        "or decorate it with @node(...)",
        details={"field": "nodes"},
    )


@overload
def node(
    func: Callable[..., Any],
    inputs: Inputs = None,
    outputs: Outputs = None,
    *,
    name: str | None = None,
    tags: Iterable[str] = (),
    cache: bool = True,
) -> Node: ...


@overload
def node(
    func: None = None,
    inputs: Inputs = None,
    outputs: Outputs = None,
    *,
    name: str | None = None,
    tags: Iterable[str] = (),
    cache: bool = True,
) -> Callable[[F], F]: ...


def node(
    func: Callable[..., Any] | None = None,
    inputs: Inputs = None,
    outputs: Outputs = None,
    *,
    name: str | None = None,
    tags: Iterable[str] = (),
    cache: bool = True,
) -> Node | Callable[[F], F]:
    """``node(fn, inputs=["raw", "params:alpha"], outputs="features")``, or as a decorator
    ``@node(inputs=..., outputs=...)`` (the function stays a plain, importable function;
    ``pipeline([fn, ...])`` accepts it). ``cache=False`` makes the node always run. The
    function's signature must accept the inputs: a mismatch is an error here, not at run time.
    """
    if func is None:

        def decorate(f: F) -> F:
            setattr(f, NODE_ATTRIBUTE, _make(f, inputs, outputs, name=name, tags=tags, cache=cache))
            return f

        return decorate
    return _make(func, inputs, outputs, name=name, tags=tags, cache=cache)
