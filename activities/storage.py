"""Private object storage: a local directory by default, S3 (or anything S3-compatible) through boto3.

Nothing in the store is public. A reader gets a short-lived presigned URL: S3's own for S3, and for the
local directory an HMAC-signed, expiring token that the API's ``GET /api/v1/files/{token}`` redeems.
Both stores have the same interface (``put``, ``put_file``, ``get``, ``exists``, ``delete``, ``presign``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from domain.errors import PermissionDenied

FILES_ROUTE = "/api/v1/files"
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # S3's own limit for SigV4 presigned URLs


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str | None = None) -> str: ...

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> str: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def presign(
        self, key: str, ttl_seconds: int, *, content_type: str | None = None, file_name: str | None = None
    ) -> str: ...


def check_key(key: str) -> str:
    """Keys are relative ``a/b/c`` paths: no empty or dot segments, no backslashes or control characters."""
    parts = key.split("/")
    if (
        not key
        or len(key) > 1024
        or "\\" in key
        or any(ord(c) < 32 or ord(c) == 127 for c in key)
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def _check_ttl(ttl_seconds: int) -> int:
    if not 0 < ttl_seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"presign ttl must be 1..{MAX_PRESIGN_SECONDS} seconds, not {ttl_seconds}")
    return int(ttl_seconds)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SignedRef:
    """What a local presigned URL grants: one key, until ``expires_at`` (epoch seconds)."""

    key: str
    expires_at: int
    content_type: str | None = None
    file_name: str | None = None


class LinkSigner:
    """``<payload>.<HMAC-SHA256(payload)>``, both base64url; the payload names the key and the expiry."""

    def __init__(self, secret: bytes | str):
        raw = secret.encode() if isinstance(secret, str) else secret
        if not raw:
            raise ValueError("a signing secret is required")
        # A key of its own, so a file link can never be mistaken for (or help forge) anything else.
        self._key = hmac.new(raw, b"los:storage-link:v1", hashlib.sha256).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def sign(self, ref: SignedRef) -> str:
        body: dict[str, Any] = {"k": ref.key, "e": ref.expires_at}
        if ref.content_type:
            body["t"] = ref.content_type
        if ref.file_name:
            body["n"] = ref.file_name
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str, now: float | None = None) -> SignedRef:
        payload, dot, mac = token.partition(".")
        if not dot or not payload or not mac or not payload.isascii() or not mac.isascii():
            raise PermissionDenied("invalid file link")
        if not hmac.compare_digest(self._mac(payload), mac):
            raise PermissionDenied("invalid file link")
        try:
            body = json.loads(_unb64(payload))
            ref = SignedRef(str(body["k"]), int(body["e"]), body.get("t"), body.get("n"))
        except (ValueError, KeyError, TypeError) as exc:
            raise PermissionDenied("invalid file link") from exc
        if ref.expires_at <= (time.time() if now is None else now):
            raise PermissionDenied("file link expired")
        return ref


class LocalStorage:
    """Files under ``root``. ``base_url`` and ``secret`` are needed only to presign (the API has them;
    the worker, which only writes agreements, does not)."""

    def __init__(self, root: Path, *, base_url: str | None = None, secret: bytes | str | None = None):
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.signer = LinkSigner(secret) if secret else None

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"storage key escapes the store: {key!r}")
        return path

    def path(self, key: str) -> Path:
        """The file behind ``key`` (resolved, symlinks included, and always inside the store)."""
        return self._path(key)

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a retried activity never leaves half a file
        return key

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        try:
            with tmp.open("wb") as out:
                shutil.copyfileobj(fileobj, out, 1024 * 1024)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presign(
        self, key: str, ttl_seconds: int, *, content_type: str | None = None, file_name: str | None = None
    ) -> str:
        if self.signer is None or self.base_url is None:
            raise RuntimeError("this LocalStorage was built without base_url/secret and cannot presign")
        self._path(key)
        ref = SignedRef(key, int(time.time()) + _check_ttl(ttl_seconds), content_type, file_name)
        return f"{self.base_url}{FILES_ROUTE}/{self.signer.sign(ref)}"

    def redeem(self, token: str) -> SignedRef:
        """The reference a presigned token grants; ``PermissionDenied`` if tampered with or expired."""
        if self.signer is None:
            raise PermissionDenied("file links are not enabled")
        ref = self.signer.verify(token)
        try:
            self._path(ref.key)
        except ValueError as exc:
            raise PermissionDenied("invalid file link") from exc
        return ref


class S3Storage:
    """A bucket through a boto3 S3 client (AWS, MinIO, Ceph...). Objects stay private; readers get
    ``generate_presigned_url('get_object')`` links."""

    def __init__(self, bucket: str, client: Any):
        self.bucket = bucket
        self.client = client

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, **extra)
        return key

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> str:
        # Managed transfer: multipart for large files, so the file is never read into memory whole.
        extra = {"ContentType": content_type} if content_type else None
        self.client.upload_fileobj(fileobj, self.bucket, check_key(key), ExtraArgs=extra)
        return key

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def presign(
        self, key: str, ttl_seconds: int, *, content_type: str | None = None, file_name: str | None = None
    ) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": check_key(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        if file_name:
            params["ResponseContentDisposition"] = content_disposition(file_name)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=_check_ttl(ttl_seconds))


def content_disposition(file_name: str, kind: str = "inline") -> str:
    ascii_name = file_name.encode("ascii", "ignore").decode("ascii").replace('"', "").replace("\\", "") or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


def s3_client(settings: Any) -> Any:
    """A boto3 S3 client from settings (``LOS_S3_*``). Unset keys fall back to boto3's own chain
    (environment, instance role...)."""
    import boto3
    from botocore.config import Config

    style = settings.s3_addressing_style or ("path" if settings.s3_endpoint_url else "auto")
    session = boto3.session.Session()  # not the module-level default session: its state is shared
    return session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None,
        aws_secret_access_key=(
            settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        ),
        config=Config(signature_version="s3v4", s3={"addressing_style": style}, retries={"mode": "standard"}),
    )


def build_storage(settings: Any) -> LocalStorage | S3Storage:
    """S3 when ``LOS_S3_BUCKET`` is set, else the local directory ``settings.storage_path`` with links
    signed by the storage secret (or the JWT secret) and served by the API at ``settings.api_url``."""
    if settings.s3_bucket:
        return S3Storage(settings.s3_bucket, s3_client(settings))
    secret = settings.storage_url_secret or settings.jwt_secret
    return LocalStorage(settings.storage_path, base_url=settings.api_url, secret=secret.get_secret_value())
