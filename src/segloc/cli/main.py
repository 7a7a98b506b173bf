"""Entry point of the `segloc` command: one sub-command per pipeline stage.

The command modules import torch and the data stack inside their functions, so `segloc --help` and
`segloc --version` answer without loading them."""

from __future__ import annotations

import logging
import sys

import typer
from tqdm import tqdm

from segloc.cli import data
from segloc.cli.chr import app as chr_app
from segloc.cli.detection import detect_cmd, evaluate_cmd, export_detector_cmd, finetune_cmd, report_cmd
from segloc.cli.experiment import demo_cmd, experiment_cmd
from segloc.cli.generate import generate_cmd
from segloc.cli.pretrain import export_cmd, pretrain_cmd, probe_cmd
from segloc.cli.serve import serve_cmd
from segloc.cli.synthesize import regions_cmd, synthesize_cmd
from segloc.errors import SeglocError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="segloc: self-supervised pretraining and prohibited-item detection on X-ray scans.",
)
app.add_typer(data.app, name="data")
app.add_typer(chr_app, name="chr")
app.command("generate")(generate_cmd)
app.command("regions")(regions_cmd)
app.command("synthesize")(synthesize_cmd)
app.command("pretrain")(pretrain_cmd)
app.command("export")(export_cmd)
app.command("probe")(probe_cmd)
app.command("finetune")(finetune_cmd)
app.command("evaluate")(evaluate_cmd)
app.command("report")(report_cmd)
app.command("detect")(detect_cmd)
app.command("export-detector")(export_detector_cmd)
app.command("serve")(serve_cmd)
app.command("experiment")(experiment_cmd)
app.command("demo")(demo_cmd)


def _print_version(value: bool) -> None:
    if value:
        from segloc import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the segloc version and exit."
    ),
) -> None:
    """segloc: self-supervised pretraining and prohibited-item detection on X-ray scans."""


@app.command()
def version() -> None:
    """Print the segloc version."""
    from segloc import __version__

    typer.echo(__version__)


def one_line(error: BaseException) -> str:
    """The message of an error as one line: a DataLoader worker's copy loses its traceback, a
    file-system error names its file, a multi-line message is joined."""
    text = str(error)
    if "Original Traceback" in text:  # re-raised by torch.utils.data from a worker process
        text = text.strip().splitlines()[-1].split(": ", 1)[-1]
    if isinstance(error, OSError) and error.strerror:
        text = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = lines[0] if lines else ""
    for line in lines[1:]:  # a heading line ("...: invalid configuration:") runs on into its first item
        joined += (" " if joined.endswith(":") else "; ") + line
    return joined


def main() -> None:
    """Run the CLI, turning segloc's own errors and file-system errors (read-only or full disk,
    missing files) into one clear line and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        app()
    except (SeglocError, OSError) as exc:
        for bar in list(getattr(tqdm, "_instances", ())):  # end a progress line the error interrupted
            bar.close()
        typer.secho(f"error: {one_line(exc)}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
