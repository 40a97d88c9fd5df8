"""The kiosk's secrets in one file sealed with a systemd credential: the Linux kiosk session's secret store.

The .deb's kiosk session runs under cage with no desktop session, so no Secret Service is unlocked there. What it
has instead is the systemd credential ``qlq-database-key``: 32 random bytes made at install, sealed by the TPM2
chip (else the host key, readable by root only), that systemd decrypts for the kiosk's service alone into
``$CREDENTIALS_DIRECTORY`` — never on disk in clear. The secrets the kiosk gets while it runs (the device token
from the centre, Google credentials) are kept in ``secrets.sealed`` in its private data folder, encrypted with
AES-256-GCM under a key derived from that credential (HKDF-SHA256, its own label, so it is not the database key
itself). The file alone, or a copy of the disk, reveals nothing; whoever cannot make systemd decrypt the
credential on this machine cannot read it.

Every change rewrites the whole file atomically (new nonce, written beside it, fsynced, renamed). A file that does
not decrypt (altered, or sealed on another machine) is never overwritten: the store refuses with a French message,
so that a secret is not silently lost.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.secrets.interface import SecretName, SecretStoreError

log = logging.getLogger(__name__)

MAGIC: Final = b"QLQS1"  # format 1: MAGIC, 12-byte nonce, AES-GCM ciphertext of the JSON object name -> value
_LABEL: Final = b"kiosque-qlq-c30 sealed secret store v1"
_NONCE_BYTES: Final = 12

UNREADABLE_MESSAGE: Final = (
    "Le fichier des secrets de la borne ne peut pas être déchiffré (modifié, ou venu d'une autre tablette) : la "
    "borne ne l'écrase pas. Prévenez le service informatique : s'il faut repartir de zéro, supprimez ce fichier "
    "puis enregistrez de nouveau la tablette auprès du serveur du centre."
)
WRITE_FAILED_MESSAGE: Final = (
    "Le fichier des secrets de la borne ne peut pas être enregistré (disque plein ou protégé en écriture). "
    "Prévenez le service informatique."
)


def derive_key(credential: bytes) -> bytes:
    """The file's AES-256 key from the credential's bytes (HKDF-SHA256 with this store's own label)."""
    if len(credential.strip()) < 32:
        raise ValueError("the sealing credential is too short to derive a key from")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(credential.strip())


class SealedFileSecretStore:
    """A :class:`~kiosk.secrets.interface.SecretStore` in one AES-GCM file (see the module docstring)."""

    def __init__(self, path: Path, credential: bytes) -> None:
        self.path = Path(path)
        self._aead = AESGCM(derive_key(credential))

    def _load(self) -> dict[str, str]:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretStoreError(
                f"{self.path}: unreadable ({type(exc).__name__})", nurse_message=UNREADABLE_MESSAGE
            ) from None
        try:
            if not blob.startswith(MAGIC):
                raise ValueError("not a sealed secret file")
            nonce = blob[len(MAGIC) : len(MAGIC) + _NONCE_BYTES]
            plain = self._aead.decrypt(nonce, blob[len(MAGIC) + _NONCE_BYTES :], MAGIC)
            data = json.loads(plain)
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise ValueError("unexpected content")
        except (InvalidTag, ValueError) as exc:
            log.error("the sealed secret file %s does not decrypt (%s)", self.path, type(exc).__name__)
            raise SecretStoreError(
                f"{self.path}: does not decrypt with this machine's credential", nurse_message=UNREADABLE_MESSAGE
            ) from None
        return data

    def _save(self, data: dict[str, str]) -> None:
        nonce = os.urandom(_NONCE_BYTES)
        blob = MAGIC + nonce + self._aead.encrypt(nonce, json.dumps(data, sort_keys=True).encode(), MAGIC)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SecretStoreError(
                f"{self.path}: cannot be written ({type(exc).__name__})", nurse_message=WRITE_FAILED_MESSAGE
            ) from None

    def get(self, name: SecretName) -> str | None:
        return self._load().get(name.value)

    def set(self, name: SecretName, value: str) -> None:
        data = self._load()  # refuses (and writes nothing) when the existing file does not decrypt
        data[name.value] = value
        self._save(data)

    def delete(self, name: SecretName) -> None:
        data = self._load()
        if data.pop(name.value, None) is not None:
            self._save(data)

    def check(self) -> None:
        """Raise :class:`SecretStoreError` when the file exists and does not decrypt (the self-test)."""
        self._load()
