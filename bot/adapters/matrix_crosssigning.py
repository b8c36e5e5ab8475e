"""Cross-signing for the bot's own device, which matrix-nio 0.26 does not do by itself.

Current Element clients share room keys only with devices their owner has cross-signed. So on
start the bot makes sure its account has cross-signing keys (master, self-signing,
user-signing; created once and kept, 0600, next to the device's other keys) and that the
self-signing key has signed its current device. Uploading new cross-signing keys needs the
account password (user-interactive auth); with nothing to do, no password is needed.

Signatures follow the spec: Ed25519 over the canonical JSON of the object without its
`signatures` and `unsigned` members, unpadded base64.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
from nio import AsyncClient

log = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class SigningKey:
    def __init__(self, seed: bytes):
        self.seed = seed
        self._key = eddsa.import_private_key(seed)
        self.public = _b64(self._key.public_key().export_key(format="raw"))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ECC.generate(curve="ed25519").seed)

    def sign(self, value: dict[str, Any]) -> str:
        unsigned = {k: v for k, v in value.items() if k not in {"signatures", "unsigned"}}
        return _b64(eddsa.new(self._key, "rfc8032").sign(canonical(unsigned)))

    def add_signature(self, user_id: str, value: dict[str, Any]) -> dict[str, Any]:
        signature = self.sign(value)
        signed = dict(value)
        signed.setdefault("signatures", {}).setdefault(user_id, {})[
            f"ed25519:{self.public}"] = signature
        return signed


def _cross_signing_key(user_id: str, usage: str, key: SigningKey) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{key.public}": key.public}}


async def _request(client: AsyncClient, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.send("POST", path, json.dumps(body), headers={
        "Authorization": f"Bearer {client.access_token}",
        "Content-Type": "application/json"})
    return response.status, await response.json()


async def bootstrap(client: AsyncClient, key_file: Path, password: str | None) -> bool:
    """Ensure the account is cross-signed and this device is signed; True when it is."""
    assert client.user_id and client.device_id
    user = client.user_id
    status, known = await _request(client, "/_matrix/client/v3/keys/query",
                                   {"device_keys": {user: [client.device_id]}})
    if status != 200:
        log.warning("cannot query the bot's keys (HTTP %s)", status)
        return False
    keys = json.loads(key_file.read_text()) if key_file.exists() else None
    server_master = known.get("master_keys", {}).get(user)
    if keys is None:
        if server_master:
            log.warning("the account already has cross-signing keys this bot does not hold; "
                        "reset them in Element or remove them to let the bot sign its device")
            return False
        keys = {usage: _b64(SigningKey.generate().seed)
                for usage in ("master", "self_signing", "user_signing")}
    master, self_signing, user_signing = (
        SigningKey(base64.b64decode(keys[u] + "==")) for u in
        ("master", "self_signing", "user_signing"))
    if not server_master:
        if not password:
            log.warning("cross-signing needs the account password once "
                        "(WEGWEISER_MATRIX_PASSWORD); Element users may not see this bot's "
                        "messages as trusted until then")
            return False
        upload = {
            "master_key": _cross_signing_key(user, "master", master),
            "self_signing_key": master.add_signature(
                user, _cross_signing_key(user, "self_signing", self_signing)),
            "user_signing_key": master.add_signature(
                user, _cross_signing_key(user, "user_signing", user_signing)),
        }
        path = "/_matrix/client/v3/keys/device_signing/upload"
        status, answer = await _request(client, path, upload)
        if status == 401:  # user-interactive auth: prove it with the password
            upload["auth"] = {"type": "m.login.password", "session": answer.get("session"),
                              "identifier": {"type": "m.id.user", "user": user},
                              "password": password}
            status, answer = await _request(client, path, upload)
        if status != 200:
            log.warning("uploading cross-signing keys failed (HTTP %s)", status)
            return False
        key_file.write_text(json.dumps(keys))
        key_file.chmod(0o600)
    elif not key_file.exists():
        key_file.write_text(json.dumps(keys))
        key_file.chmod(0o600)
    device = known.get("device_keys", {}).get(user, {}).get(client.device_id)
    if device is None:
        log.warning("the bot's device keys are not on the server yet")
        return False
    signed_by = device.get("signatures", {}).get(user, {})
    if f"ed25519:{self_signing.public}" not in signed_by:
        signed = self_signing.add_signature(user, {k: v for k, v in device.items()
                                                   if k != "unsigned"})
        status, answer = await _request(client, "/_matrix/client/v3/keys/signatures/upload",
                                        {user: {client.device_id: signed}})
        if status != 200 or answer.get("failures"):
            log.warning("signing the bot's device failed (HTTP %s)", status)
            return False
    return True
