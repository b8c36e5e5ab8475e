"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests: SQLite, throwaway config.

Started once per test session (Synapse takes a few seconds to start). Accounts are registered
through the admin API with the shared secret, so the tests need no open registration.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from tests.net import free_port

SHARED_SECRET = "wegweiser-tests-registration-secret"
SERVER_NAME = "localhost"

_LOG_CONFIG = """
version: 1
formatters:
  plain: {format: "%(asctime)s %(levelname)s %(name)s %(message)s"}
handlers:
  file: {class: logging.FileHandler, formatter: plain, filename: LOGFILE}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


class Synapse:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = directory / "homeserver.yaml"
        self._process: subprocess.Popen[bytes] | None = None

    def configure(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
             "--config-path", str(self.config), "--data-directory", str(self.directory),
             "--generate-config", "--report-stats=no"],
            cwd=self.directory, check=True, capture_output=True)
        config = yaml.safe_load(self.config.read_text())
        log_config = self.directory / "log.yaml"
        log_config.write_text(_LOG_CONFIG.replace("LOGFILE", str(self.directory / "synapse.log")))
        unlimited = {"per_second": 1000, "burst_count": 1000}
        config.update({
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                           "tls": False, "x_forwarded": False,
                           "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3",
                         "args": {"database": str(self.directory / "homeserver.db")}},
            "log_config": str(log_config),
            "registration_shared_secret": SHARED_SECRET,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "report_stats": False,
            "rc_message": unlimited, "rc_joins": {"local": unlimited, "remote": unlimited},
            "rc_invites": {"per_room": unlimited, "per_user": unlimited,
                           "per_issuer": unlimited},
            "rc_login": {"address": unlimited, "account": unlimited,
                         "failed_attempts": unlimited},
            "rc_registration": unlimited, "rc_admin_redaction": unlimited,
        })
        self.config.write_text(yaml.safe_dump(config))

    def start(self, timeout: float = 90.0) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(self.config)],
            cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "SYNAPSE_CACHE_FACTOR": "0.5"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError("Synapse exited: " + error[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Synapse did not start in time")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def register(self, user: str, password: str, admin: bool = False) -> str:
        """Create an account through the shared-secret admin API; return its user id."""
        return self._register(user, password, admin)["user_id"]

    def admin_token(self) -> str:
        """An access token of a (new) server admin, for the admin API."""
        name = f"admin{time.monotonic_ns()}"
        return self._register(name, "pw-" + name, True)["access_token"]

    def _register(self, user: str, password: str, admin: bool) -> dict:
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint) as answer:
            nonce = json.load(answer)["nonce"]
        role = "admin" if admin else "notadmin"
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update("\x00".join((nonce, user, password, role)).encode())
        body = json.dumps({"nonce": nonce, "username": user, "password": password,
                           "admin": admin, "mac": mac.hexdigest()}).encode()
        request = urllib.request.Request(endpoint, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    def limit_messages(self, user_id: str, per_second: int, burst: int) -> None:
        """Throttle one account's messages (the admin API's rate-limit override)."""
        token = self.admin_token()
        body = json.dumps({"messages_per_second": per_second, "burst_count": burst}).encode()
        request = urllib.request.Request(
            f"{self.url}/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit",
            body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request):
            pass


async def wait_until(check, timeout: float = 20.0, every: float = 0.1):
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)
