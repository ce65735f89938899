"""Which project files are secrets (by name and by content), so they are never committed by us.

Names catch the usual suspects (``.env``, ``id_rsa``, ``*.key``); content catches the ones with
innocent names: a PEM private key in ``server.pem``, a Google service-account JSON in
``project-1234.json``, an AWS access key pair, a ``config.ini`` with a password. A public CA bundle
(``cacert.pem``, certifi's) only holds certificates and is not a secret.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from homedeploy.fileio import read_bytes

SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pypirc",
    "credentials.json",
    "service-account*.json",
    "client_secret*.json",
    "secrets.json",
)
NOT_SECRET_NAMES = ("*.example", "*.sample", "*.template", "*.dist", "*.pub")
SNIFF_BYTES = 256 * 1024
"""Content checks read at most this much of a file (keys and configs are small)."""
SNIFFED_SUFFIXES = (".pem", ".json", ".ini", ".cfg", ".conf", ".txt", ".yaml", ".yml", ".py", "")

_PRIVATE_KEY_RE = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_SERVICE_ACCOUNT_RE = re.compile(rb'"type"\s*:\s*"service_account"')
_AWS_KEY_RE = re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_AWS_SECRET_RE = re.compile(rb"(?i)aws_secret_access_key\s*[=:]\s*\S{20,}")
_INI_SECRET_RE = re.compile(
    rb"(?im)^\s*[\w.-]*(?:password|passwd|secret|api_key|apikey|token)[\w.-]*\s*[=:]\s*\S+"
)


def secret_by_name(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if any(fnmatch.fnmatchcase(name, p) for p in NOT_SECRET_NAMES):
        return False
    return any(fnmatch.fnmatchcase(name, p) for p in SECRET_NAMES)


def secret_by_content(rel: str, data: bytes) -> str | None:
    """What secret ``data`` (a file's first bytes) holds, or None."""
    name = rel.rsplit("/", 1)[-1].lower()
    if any(fnmatch.fnmatchcase(name, p) for p in NOT_SECRET_NAMES):
        return None
    if _PRIVATE_KEY_RE.search(data):
        return "a private key"
    if _SERVICE_ACCOUNT_RE.search(data) and b"private_key" in data:
        return "a Google service-account key"
    if _AWS_KEY_RE.search(data) or _AWS_SECRET_RE.search(data):
        return "an AWS access key"
    if name.endswith((".ini", ".cfg", ".conf")) and _INI_SECRET_RE.search(data):
        return "a password or secret setting"
    return None


def secret_reason(root: Path, rel: str) -> str | None:
    """Why ``root/rel`` must not be committed (by name, then content), or None."""
    if secret_by_name(rel):
        return "a secrets file (by its name)"
    suffix = Path(rel).suffix.lower()
    if suffix not in SNIFFED_SUFFIXES:
        return None
    try:
        data = read_bytes(root / rel, limit=SNIFF_BYTES, head=True)
    except OSError:
        return None
    return secret_by_content(rel, data)
