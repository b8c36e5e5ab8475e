"""A real redis-server on 127.0.0.1 for the Redis store tests: no persistence, throwaway dir.

Started once per test session (it starts in milliseconds, but one is enough: each test keeps
to its own key prefix). It is Debian's redis-server package, which `python3 dev.py test`
installs when it is missing; the tests fail rather than skip without it, so that a machine
without Redis cannot pass the suite by testing less.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from tests.net import free_port


class RedisServer:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = directory / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server not found: run `python3 dev.py test`, which installs it",
                        pytrace=False)
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--logfile", str(self.log),
             "--daemonize", "no"],
            cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                logged = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError("redis-server exited: " + (error + logged)[-2000:])
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError("redis-server did not start in time")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process and self._process.stderr:
            self._process.stderr.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server that lives as long as the test session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def redis_dump(url: str) -> str:
    """Every key on the server with its whole contents, as plain text: the key on one line,
    each list item, set member, hash field and value, or zset member and score indented on one
    of its own. For tests that check nothing about a person is left: search it for the id."""
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        dump: list[str] = []
        for key in sorted([key async for key in client.scan_iter(count=1000)]):
            kind = await client.type(key)
            if kind == "string":
                items = [await client.get(key)]
            elif kind == "list":
                items = await client.lrange(key, 0, -1)
            elif kind == "hash":
                items = [f"{field} = {value}"
                         for field, value in sorted((await client.hgetall(key)).items())]
            elif kind == "set":
                items = sorted(await client.smembers(key))
            elif kind == "zset":
                items = [f"{member} ({score:g})"
                         for member, score in await client.zrange(key, 0, -1, withscores=True)]
            else:
                items = ["<not dumped>"]
            dump += [f"{key} ({kind})", *(f"    {item}" for item in items)]
        return "\n".join(dump)
    finally:
        await client.aclose()
