"""The README's command reference, generated from the CLI itself (a test keeps them in sync)."""

from __future__ import annotations

import typer

BEGIN = "<!-- command-reference:begin -->"
END = "<!-- command-reference:end -->"


def _walk(command, path: str) -> list[tuple[str, str]]:
    rows = []
    sub = getattr(command, "commands", None)
    if sub:
        for name in sorted(sub):
            rows += _walk(sub[name], f"{path} {name}")
    else:
        rows.append((path, command.get_short_help_str(limit=150)))
    return rows


def command_reference(app: typer.Typer) -> str:
    """A Markdown table of every leaf command with its one-line help, between the README markers."""
    rows = _walk(typer.main.get_command(app), "segloc")
    lines = [BEGIN, "| command | what it does |", "|---|---|"]
    lines += [f"| `{path}` | {text.replace('|', '/')} |" for path, text in rows]
    return "\n".join([*lines, END])


def update_readme(path: str) -> None:
    """Rewrite the block between the markers of ``path`` with the current command reference."""
    from pathlib import Path

    from segloc.cli.main import app

    text = Path(path).read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    Path(path).write_text(head + command_reference(app) + tail, encoding="utf-8")


if __name__ == "__main__":
    import sys

    update_readme(sys.argv[1] if len(sys.argv) > 1 else "README.md")
