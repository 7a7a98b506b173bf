"""`segloc serve`: the web viewer and its JSON API on this machine."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from segloc.serve.limits import DEFAULT_HOST, DEFAULT_PORT, MAX_PIXELS, MAX_UPLOAD_BYTES


def serve_cmd(
    run: Path = typer.Argument(
        ...,
        help="Fine-tuning run folder, model file or exported detector; a pretraining "
        "run folder (its synthesised pairs); or an experiment folder (e.g. runs/demo).",
    ),
    chr_run: Path = typer.Option(None, "--chr", help="CHR run folder: class scores and CAMs of each scan."),
    host: str = typer.Option(
        DEFAULT_HOST,
        "--host",
        help="Address to bind; other than 127.0.0.1 exposes the viewer, which has no authentication, to the network.",
    ),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Port (0: any free port)."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | cuda:N"),
    max_upload_mb: float = typer.Option(MAX_UPLOAD_BYTES / 2**20, "--max-upload-mb", help="Largest upload accepted."),
    max_megapixels: float = typer.Option(MAX_PIXELS / 1e6, "--max-megapixels", help="Largest scan accepted."),
) -> None:
    """Serve a web viewer of detections (masks, classes, scores), CHR scores with CAMs, and synthesised pairs."""
    from segloc.engine import resolve_device
    from segloc.serve import find_sources, make_server

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C stops it even where SIGINT was inherited ignored
    dev = resolve_device(device)
    server = make_server(
        find_sources(run, chr_run, dev), host, port, int(max_upload_mb * 2**20), int(max_megapixels * 1e6)
    )
    typer.echo(f"segloc viewer on {server.url} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how the viewer stops
    finally:
        server.server_close()  # answers the requests in progress first
    typer.echo("stopped")
