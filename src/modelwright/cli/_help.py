"""Flags shown as flags in ``--help``.

Typer 0.29's Rich help prints a type beside every option, so a flag reads ``--json <bool>``
as if it took a value; its plain help, and its Rich help before 0.29, print none for a flag.
One override, made before the first help is drawn, restores that for every flag of every
command, ``--help`` itself included (typer makes that option, so no declaration can).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

__all__ = ["show_flags_plainly"]


def show_flags_plainly() -> None:
    """Draw no type beside an option that takes no value (a flag, a counter)."""
    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "flags_plain", False):
        return  # an older typer, which has no such column; or done already

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if (self.is_flag or self.count) and self.metavar is None:
            return None
        result: str | None = shown(self, ctx)
        return result

    display_type_rich.flags_plain = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
