"""Shared fixtures: the example pack, the shared Brumeval pack when present, and a fresh store
on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import example_pack_path
from knowledge.snapshot import Knowledge

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SHARED_PACKS = ROOT.parent / "shared" / "packs"


@pytest.fixture(scope="session")
def example_pack() -> Path:
    return example_pack_path()


@pytest.fixture(scope="session")
def example_knowledge(example_pack: Path) -> Knowledge:
    return Knowledge.load(example_pack)


@pytest.fixture(scope="session")
def brumeval_pack() -> Path:
    path = SHARED_PACKS / "brumeval"
    if not path.is_dir():
        pytest.skip("../shared/packs/brumeval is not beside this checkout")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crieur.db'}"
        return
    from tests.postgres import create_database, drop_database

    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def pack_copy(example_pack: Path, tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the example pack, for tests that break it on purpose."""
    target = tmp_path / "pack"
    shutil.copytree(example_pack, target)
    yield target
