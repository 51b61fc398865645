"""What ``csvnlp serve`` was started with, checked before anything listens.

Safe by default: the server binds to the loopback address; any other address needs an access
token (``--token`` or ``$CSVNLP_SERVE_TOKEN``), and then every request must carry it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from csvnlp.documents import MAX_DOCUMENT_BYTES
from csvnlp.errors import CsvnlpError, ExitStatus, InputError

TOKEN_ENV = "CSVNLP_SERVE_TOKEN"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
MIN_TOKEN_CHARS = 16
# A multipart upload carries its file plus a few form fields and part headers.
FORM_OVERHEAD_BYTES = 64 * 1024
DATA_SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")  # what `csvnlp tag` writes


class ServeConfigError(CsvnlpError):
    """A start-up option that would make the server unsafe or unable to work."""

    exit_status = ExitStatus.USAGE


@dataclass
class ServeConfig:
    model: Path | None = None  # None: $CSVNLP_MODEL or the packaged model, as for classify
    data: list[Path] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    corpus: Path = Path("corpus")  # where review decisions and corrections are written
    text_columns: list[str] = field(default_factory=list)  # kept columns holding the text (default: guessed)
    max_upload_bytes: int = MAX_DOCUMENT_BYTES  # the CLI's limit for one document
    reviewer: str = "reviewer"

    @property
    def max_request_bytes(self) -> int:
        return self.max_upload_bytes + FORM_OVERHEAD_BYTES

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def checked_config(config: ServeConfig) -> ServeConfig:
    """Fill the token from the environment and refuse unsafe or impossible settings."""
    token = config.token if config.token is not None else os.environ.get(TOKEN_ENV) or None
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ServeConfigError(
            f"the access token is {len(token)} characters; use at least {MIN_TOKEN_CHARS}, e.g. "
            "`python -c \"import secrets; print(secrets.token_urlsafe(24))\"`"
        )
    if not config.loopback and token is None:
        raise ServeConfigError(
            f"listening on {config.host} makes csvnlp reachable from other machines; give an access token "
            f"with --token TOKEN (or ${TOKEN_ENV}) so that every request must carry it, or keep the default "
            "--host 127.0.0.1"
        )
    if not 0 < config.port < 65536:
        raise ServeConfigError(f"--port must be between 1 and 65535, not {config.port}")
    seen: set[Path] = set()
    for path in config.data:
        if not path.is_file():
            raise InputError(f"--data {path}: no such file; give a table written by `csvnlp tag` (CSV, JSONL or Parquet)")
        if not path.name.lower().endswith(DATA_SUFFIXES):
            raise InputError(f"--data {path}: not a `csvnlp tag` output ({', '.join(DATA_SUFFIXES)})")
        if path.resolve() in seen:
            raise InputError(f"--data {path} is given twice")
        seen.add(path.resolve())
    config.token = token
    return config


def dataset_slugs(paths: list[Path]) -> list[str]:
    """A short URL name per data file (its stem, made unique): requests name a dataset by
    this, never by a path, so no request can reach another file."""
    slugs: list[str] = []
    for path in paths:
        stem = path.name
        for suffix in sorted(DATA_SUFFIXES, key=len, reverse=True):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        base = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "data"
        slug, n = base, 2
        while slug in slugs:
            slug, n = f"{base}-{n}", n + 1
        slugs.append(slug)
    return slugs
