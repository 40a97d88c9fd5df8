"""Kiosque QLQ-C30: the tablet kiosk (``kiosk.domain`` is its pure core, shared with the sync server).

``__version__`` comes from ONE place, ``[project] version`` in pyproject.toml: an installed kiosk (``uv sync``, a
wheel, the PyInstaller bundle, which carries the distribution's metadata: ``copy_metadata`` in
installer/kiosk.spec) reads it from the package metadata; a source tree never installed reads pyproject.toml
itself. It is computed here, without importing a submodule, because the server imports it too (kiosk/version.py
gives it to the kiosk's screens).
"""


def _read_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("kiosque-qlq-c30")
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        try:
            with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as f:
                return str(tomllib.load(f)["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


__version__ = _read_version()
