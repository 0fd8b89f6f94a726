"""Every top-level package of the project is installed by `pip install .` (pyproject's package list): a package
left out imports in a checkout's own directory, where the tests run, and fails everywhere else (`los up` started
from another directory, a built wheel)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"tests", "bench"}  # run from a checkout only


def test_every_top_level_package_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_SHIPPED)
    assert packages, "no package found"
    missing = [name for name in packages if not any(fnmatch(name, pattern) for pattern in patterns)]
    assert missing == [], f"add to [tool.setuptools.packages.find] include: {missing}"
