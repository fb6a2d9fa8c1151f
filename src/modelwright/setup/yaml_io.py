"""Read platform.yaml with errors that point at a line and column; write it back.

Values may name environment variables, as in Compose files: ``${NAME}``, or
``${NAME:-default}`` for a default when NAME is unset or empty; ``$${`` is a literal ``${``.
They are expanded where the file is read (the command line), never by a server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from modelwright.errors import InvalidInput
from modelwright.setup.spec import PlatformSpec, dotted
from modelwright.workspaces.rules import absolute_local

__all__ = ["absolute_paths", "dump_spec", "load_spec", "locate"]


_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load_spec(
    text: str, source: str = "platform.yaml", variables: Mapping[str, str] | None = None
) -> PlatformSpec:
    """Parse and validate; every error names the file, line, column and field. With
    ``variables`` (``os.environ``), ``${NAME}`` in values is expanded from them."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise InvalidInput(
            f"{where}: invalid YAML: {exc.problem or exc.context}",
            details={
                "line": mark.line + 1 if mark else None,
                "column": mark.column + 1 if mark else None,
            },
        ) from None
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML forbids (e.g. control characters); it has no mark, only
        # an offset into the text.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise InvalidInput(
            f"{source}:{line}:{column}: invalid YAML: unacceptable character {char}: {exc.reason}",
            details={"line": line, "column": column},
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{source}:1:1: the document must be a mapping (apiVersion, workspaces, ...)"
        )
    if variables is not None:
        data = _expand(data, variables, (), root, source)
    try:
        return PlatformSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, root, source) from None


def absolute_paths(spec: PlatformSpec) -> PlatformSpec:
    """Datastore paths relative to where the command runs, made absolute: the server never
    resolves a relative path against its own working directory."""
    for workspace in spec.workspaces:
        for environment in workspace.environments:
            for datastore in environment.datastores:
                datastore.url = absolute_local(datastore.url)
    return spec


def _expand(
    value: Any,
    variables: Mapping[str, str],
    loc: tuple[Any, ...],
    root: yaml.Node | None,
    source: str,
) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, variables, (*loc, k), root, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, variables, (*loc, i), root, source) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name is None:  # $${
            return "${"
        found = variables.get(name)
        if default is not None:
            return found or default  # ":-": unset or empty
        if found is not None:
            return found
        line, column = locate(root, loc)
        where = f"{source}:{line}:{column}" if line else source
        raise InvalidInput(
            f"{where}: {dotted(loc)}: environment variable {name} is not set "
            f"(set it, or give a default: ${{{name}:-...}})",
            details={"field": dotted(loc), "variable": name, "line": line, "column": column},
        )

    return _VARIABLE.sub(substitute, value)


def validation_error(exc: ValidationError, root: yaml.Node | None, source: str) -> InvalidInput:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        line, col = locate(root, loc)
        msg = str(err["msg"]).removeprefix("Value error, ")
        problems.append(
            {"loc": dotted(loc) or "(document)", "line": line, "column": col, "message": msg}
        )
    first = problems[0]
    where = f"{source}:{first['line']}:{first['column']}" if first["line"] else source
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return InvalidInput(
        f"{where}: {first['loc']}: {first['message']}{more}", details={"problems": problems}
    )


def locate(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest node along ``loc`` that exists in the file."""
    node = root
    best = node
    for part in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    nxt = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            nxt = node.value[part]
        if nxt is None:
            break
        node = best = nxt
    if best is None:
        return None, None
    return best.start_mark.line + 1, best.start_mark.column + 1


def dump_spec(spec: PlatformSpec, *, json: bool = False) -> str:
    """The spec as YAML, or as JSON (which is YAML too, so ``load_spec`` reads either)."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    for ws in data.get("workspaces", []):
        for env in ws.get("environments", []):
            if env.get("promotion") is None:  # no policy: the key would only add noise
                env.pop("promotion", None)
    if json:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
