"""Remember parsed YAML by the file's content, so unchanged files are not parsed again.

Parsing YAML in Python costs far more than everything else a catalogue load does (a state-wide
catalogue of 20,000 offers in eleven languages is some 80 MB of YAML). The plain data of each
file is therefore stored under a hash of the file's bytes, like Python's .pyc files: a restart or
a reload re-parses only the files that changed, and everything is still validated and indexed
from scratch. Entries are marshal data written by this program into its own cache directory.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Bump when yamlread changes what a file reads as, so old entries are not used.
FORMAT = 1


class ParseCache:
    """Plain data by content hash, in memory and (if a directory is given) on disk."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self._memory: dict[str, bytes] = {}

    @staticmethod
    def key(content: bytes) -> str:
        return hashlib.blake2b(content, digest_size=20, person=b"wegweiser-%d" % FORMAT
                               ).hexdigest()

    def _path(self, key: str) -> Path | None:
        return self.directory / key[:2] / f"{key}.marshal" if self.directory else None

    def get(self, key: str) -> Any | None:
        blob = self._memory.get(key)
        path = self._path(key)
        if blob is None and path is not None:
            try:
                blob = path.read_bytes()
            except OSError:
                return None
        if blob is None:
            return None
        try:
            return marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            log.warning("ignoring a damaged parse cache entry")
            return None

    def put(self, key: str, data: Any) -> None:
        blob = marshal.dumps(data)
        self._memory[key] = blob
        path = self._path(key)
        if path is None or path.exists():
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(blob)
            os.replace(temporary, path)  # atomic: a crash never leaves half an entry
        except OSError as err:
            log.warning("cannot write the parse cache (%s); continuing without it",
                        err.strerror)
