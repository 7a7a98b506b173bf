from pathlib import Path

from typer.testing import CliRunner

from segloc.cli.main import app, one_line
from segloc.cli.reference import BEGIN, END, _walk, command_reference

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_command_reference_in_sync():
    text = README.read_text(encoding="utf-8")
    block = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert block == command_reference(app), "run: python -m segloc.cli.reference README.md"


def test_every_command_has_help():
    import typer

    runner = CliRunner()
    for path, summary in _walk(typer.main.get_command(app), "segloc"):
        assert summary, f"{path} has no help text"
        result = runner.invoke(app, [*path.split()[1:], "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_help_and_version_answer_without_loading_torch():
    import subprocess
    import sys

    probe = (
        "import sys\nfrom segloc.cli.main import main\nsys.argv = ['segloc', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'torchvision', 'cv2', 'pycocotools') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    for args in (["--help"], ["--version"], ["data", "--help"], ["chr", "--help"]):
        run = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
        assert "HEAVY []" in run.stdout, (args, run.stdout[-500:], run.stderr[-2000:])
    version = subprocess.run([sys.executable, "-c", probe, "--version"], capture_output=True, text=True, timeout=60)
    from segloc import __version__

    assert version.stdout.splitlines()[0] == __version__


def test_generate_help_lists_the_presets_as_defined():
    from segloc.cli.generate import PRESET_HELP
    from segloc.generator.presets import PRESETS

    sizes = "; ".join(
        f"{p.name}: {'/'.join(str(v) for v in p.pidray.values())}, {p.sixray_positives}/{p.sixray_negatives}"
        for p in PRESETS.values()
    )
    assert f"SIXray positives/negatives): {sizes}." in PRESET_HELP


def test_multi_line_errors_read_as_one_line():
    from segloc.errors import ConfigError

    error = ConfigError("x.yaml: invalid configuration:\n  data.density: too large\n  data.hue: too large")
    assert one_line(error) == "x.yaml: invalid configuration: data.density: too large; data.hue: too large"
    assert one_line(ConfigError("one\ntwo")) == "one; two"
