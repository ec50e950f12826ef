"""Object store for file bytes and extracted text: a local folder or S3.

Keys are content-derived (tenant, document, attempt), so writing the same
object twice is harmless and a replay never creates a second copy.
"""

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from connectors.errors import ConnectorError
from tidings.settings import Settings


class ObjectStoreError(ConnectorError):
    """An object could not be written or read."""


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes) -> str: ...

    async def get(self, uri: str) -> bytes: ...


class FileObjectStore:
    """Objects as files under one root folder, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path_for_key(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectStoreError(f"object key {key!r} escapes the store root")
        return path

    def _put_sync(self, key: str, data: bytes) -> str:
        path = self._path_for_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)

        # Write to a temporary file and rename, so a reader never sees half
        # an object, even if this process is killed in the middle.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise ObjectStoreError(f"cannot write object {key!r}: {exc}") from exc
        return path.as_uri()

    def _get_sync(self, uri: str) -> bytes:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            raise ObjectStoreError(f"{uri!r} is not a file:// object URI")

        path = Path(parsed.path).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectStoreError(f"{uri!r} lies outside the store root {self.root}")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ObjectStoreError(f"cannot read object {uri!r}: {exc}") from exc

    async def put(self, key: str, data: bytes) -> str:
        return await asyncio.to_thread(self._put_sync, key, data)

    async def get(self, uri: str) -> bytes:
        return await asyncio.to_thread(self._get_sync, uri)


class S3ObjectStore:
    """Objects in an S3-compatible bucket (AWS S3, MinIO)."""

    # TODO: covered by no test here, because no S3-compatible server is
    # available to the test suite; exercise it against MinIO in compose.

    def __init__(self, settings: Settings) -> None:
        import boto3

        secret = settings.s3_secret_access_key
        self.bucket = settings.s3_bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            region_name=settings.s3_region,
        )

    def _put_sync(self, key: str, data: bytes) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(
                f"cannot write s3://{self.bucket}/{key}: {exc}"
            ) from exc
        return f"s3://{self.bucket}/{key}"

    def _get_sync(self, uri: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        parsed = urlparse(uri)
        if parsed.scheme != "s3":
            raise ObjectStoreError(f"{uri!r} is not an s3:// object URI")
        try:
            response = self.client.get_object(
                Bucket=parsed.netloc, Key=parsed.path.lstrip("/")
            )
            body: bytes = response["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"cannot read {uri!r}: {exc}") from exc
        return body

    async def put(self, key: str, data: bytes) -> str:
        return await asyncio.to_thread(self._put_sync, key, data)

    async def get(self, uri: str) -> bytes:
        return await asyncio.to_thread(self._get_sync, uri)


def open_object_store(settings: Settings) -> ObjectStore:
    if settings.object_store == "s3":
        return S3ObjectStore(settings)
    return FileObjectStore(settings.objects_dir)
