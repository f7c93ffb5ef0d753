"""A flat folder of files in a local directory or under an S3 prefix: the ERP inbox and the adapters' small state.

`LocalFolder(root)` and `S3Folder(client, bucket, prefix)` (`S3Folder.from_lake(lake, prefix)` reuses an
`S3Lake`'s client) both offer `list(sub)`, `read`, `write` (whole object, atomic locally), `move`, `exists`
and `location`. Names are `/`-separated paths relative to the root (`processed/x.csv`). `list` returns the files
directly in a subfolder, not below it, so `processed/` and `quarantine/` never show up in an inbox listing.
"""

import io
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error


@dataclass(frozen=True)
class FileInfo:
    name: str  # relative to the folder root
    size: int
    modified: datetime  # UTC


class Folder(Protocol):
    def list(self, sub: str = "") -> list[FileInfo]: ...
    def read(self, name: str) -> bytes: ...
    def write(self, name: str, data: bytes) -> None: ...
    def move(self, name: str, target: str) -> None: ...
    def exists(self, name: str) -> bool: ...
    def location(self, name: str = "") -> str: ...


def _join(sub: str, name: str) -> str:
    return f"{sub.strip('/')}/{name}" if sub.strip("/") else name


class LocalFolder:
    """A directory on this machine (created on the first write)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.root)!r})"

    def location(self, name: str = "") -> str:
        return str(self.root / name) if name else str(self.root)

    def list(self, sub: str = "") -> list[FileInfo]:
        base = self.root / sub
        if not base.is_dir():
            return []
        found = []
        with os.scandir(base) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    stat = entry.stat()
                    modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                    found.append(FileInfo(_join(sub, entry.name), stat.st_size, modified))
        return sorted(found, key=lambda info: info.name)

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def write(self, name: str, data: bytes) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            temp.write_bytes(data)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def move(self, name: str, target: str) -> None:
        (self.root / target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.root / name, self.root / target)

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()


class S3Folder:
    """A prefix in an S3-compatible bucket through the minio SDK (move = server-side copy, then delete)."""

    def __init__(self, client: Minio, bucket: str, prefix: str = ""):
        self._client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    @classmethod
    def from_lake(cls, lake, prefix: str) -> "S3Folder":
        """A folder in the bucket of an `S3Lake`, under the lake's own prefix (e.g. `erp/inbox`)."""
        full = "/".join(part for part in (lake.prefix, prefix.strip("/")) if part)
        return cls(lake._client, lake.bucket, full)

    def __repr__(self) -> str:
        return f"S3Folder(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, name: str) -> str:
        return _join(self.prefix, name)

    def location(self, name: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def list(self, sub: str = "") -> list[FileInfo]:
        base = self._key(sub).rstrip("/") + "/" if self._key(sub) else ""
        strip = len(self._key("").rstrip("/") + "/") if self.prefix else 0
        found = []
        for obj in self._client.list_objects(self.bucket, prefix=base, recursive=False):
            if obj.is_dir:
                continue
            modified = obj.last_modified.astimezone(UTC) if obj.last_modified else datetime.now(UTC)
            found.append(FileInfo(obj.object_name[strip:], obj.size or 0, modified))
        return sorted(found, key=lambda info: info.name)

    def read(self, name: str) -> bytes:
        response = self._client.get_object(self.bucket, self._key(name))
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def write(self, name: str, data: bytes) -> None:
        self._client.put_object(self.bucket, self._key(name), io.BytesIO(data), len(data))

    def move(self, name: str, target: str) -> None:
        self._client.copy_object(self.bucket, self._key(target), CopySource(self.bucket, self._key(name)))
        self._client.remove_object(self.bucket, self._key(name))

    def exists(self, name: str) -> bool:
        try:
            self._client.stat_object(self.bucket, self._key(name))
            return True
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise


def as_folder(location: "Folder | str | os.PathLike") -> Folder:
    """A `Folder` as is; a path becomes a `LocalFolder`."""
    return LocalFolder(location) if isinstance(location, str | os.PathLike) else location


def read_json(folder: Folder, name: str) -> dict:
    """The JSON object stored at `name`, or {} when there is none yet."""
    if not folder.exists(name):
        return {}
    return json.loads(folder.read(name).decode("utf-8") or "{}")


def write_json(folder: Folder, name: str, value: dict) -> None:
    """Store a JSON object whole (sorted keys, so the same state gives the same bytes)."""
    folder.write(name, (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
