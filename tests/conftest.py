"""Shared fixtures: the bundled catalogue and translations, loaded once per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.catalogue import Catalogue, load_catalogue
from bot.engine import Engine
from bot.i18n import Lang
from bot.i18n.catalogues import load_languages

if TYPE_CHECKING:
    from tests.synapse_server import Synapse

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
LOCALES = ROOT / "locales"
#: A fixed "now" so that expiry and start dates give the same answers on every run.
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Commands run by the tests keep their parse cache out of the user's home."""
    os.environ["WEGWEISER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(CONTENT)


@pytest.fixture(scope="session")
def languages() -> Mapping[str, Lang]:
    return load_languages(LOCALES)


@pytest.fixture(scope="session")
def engine(catalogue: Catalogue, languages: Mapping[str, Lang]) -> Engine:
    return Engine(catalogue, languages)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """A real Synapse homeserver, started once for every test that needs one."""
    from tests.synapse_server import Synapse

    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.configure()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled content, for planting errors."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target
