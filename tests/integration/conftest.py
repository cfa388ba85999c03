"""Fixtures of the integration tests: the moto server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration import moto_fixes
from tests.integration.emulator import CDK_BIN, Emulator


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto in server mode on 127.0.0.1 and a free port, for the whole session."""
    if not CDK_BIN.exists():
        pytest.skip("the pinned CDK CLI is installed by `make test` (npm ci)")
    from moto.server import ThreadedMotoServer

    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def emulator(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    """An empty, bootstrapped emulated account for one test module."""
    emulator = Emulator(endpoint=moto_endpoint, workdir=tmp_path_factory.mktemp("emulator"))
    emulator.reset()
    emulator.bootstrap()
    return emulator
