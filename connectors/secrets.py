"""Encryption of secrets that must travel inside events (PDF passwords).

Events stay in Kafka for replay, so a password is stored there only as a
Fernet token under the platform's secret key.
"""

from cryptography.fernet import Fernet, InvalidToken

from connectors.errors import ConnectorError
from tidings.settings import Settings


class SecretKeyError(ConnectorError):
    """The secret key is missing, invalid, or does not match a token."""


def load_fernet(settings: Settings) -> Fernet:
    """Build the cipher from TIDINGS_SECRET_KEY or the local stack's key file."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().encode()
    else:
        path = settings.keys_dir / "secret.key"
        if not path.exists():
            raise SecretKeyError(
                f"TIDINGS_SECRET_KEY is not set and {path} does not exist; "
                "start the local stack once or set TIDINGS_SECRET_KEY to the "
                "output of `Fernet.generate_key()`"
            )
        key = path.read_bytes().strip()

    try:
        return Fernet(key)
    except ValueError as exc:
        raise SecretKeyError(
            "TIDINGS_SECRET_KEY is not a valid Fernet key (32 url-safe "
            "base64-encoded bytes)"
        ) from exc


def encrypt_secret(fernet: Fernet, plaintext: str) -> str:
    return fernet.encrypt(plaintext.encode()).decode()


def decrypt_secret(fernet: Fernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError(
            "cannot decrypt a password token: it was made under another "
            "TIDINGS_SECRET_KEY"
        ) from exc
