"""Entry point of the `segloc` command."""
import typer

app = typer.Typer(no_args_is_help=True, help="segloc: X-ray pretraining and detection toolkit.")


@app.command()
def version() -> None:
    """Print the segloc version."""
    from segloc import __version__

    typer.echo(__version__)
