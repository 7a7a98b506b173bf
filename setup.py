"""Build hook: ship the top-level ``configs/`` inside the package (``segloc/configs``) without moving it,
so a non-editable install finds ``segloc demo``'s configs. Everything else is in pyproject.toml."""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithConfigs(build_py):
    """The usual build_py, plus a copy of configs/**/*.yaml into the built package."""

    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "configs"
        for path in sorted(source.rglob("*.yaml")):
            self.copy_file(str(path), str(self._target(path.relative_to(source))))

    def _target(self, relative: Path) -> Path:
        target = Path(self.build_lib) / "segloc" / "configs" / relative
        self.mkpath(str(target.parent))
        return target


setup(cmdclass={"build_py": BuildPyWithConfigs})
