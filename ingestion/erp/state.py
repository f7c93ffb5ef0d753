"""The adapters' small persistent state, as JSON objects in a local folder or a `Folder` (e.g. an S3 prefix).

`CursorStore`: the incremental-extraction cursor of each ERP table (pure in memory; `load`/`save`).
`FileRegistry`: the SHA-256 of every dropped file already loaded, so an identical re-drop is skipped.
Both are written whole (atomically in a local folder). One writer at a time: the orchestration runs one
extraction per table and one file-drop run at a time.
"""

import os
from collections.abc import Mapping
from datetime import datetime

from ingestion.erp.folders import Folder, as_folder, read_json, write_json

DEFAULT_SCHEMA = "erp"


class CursorStore:
    """The extraction cursor of each ERP table, kept as JSON (`{"erp.payables": "2024-12-31T21:30:00.152+00:00"}`).

    Pure in memory; `load`/`save` read and write it whole in a local folder or a `Folder` (e.g. an S3 prefix).
    """

    def __init__(self, cursors: Mapping[str, datetime] | None = None):
        self._cursors = dict(cursors or {})

    @staticmethod
    def key(entity: str, schema: str = DEFAULT_SCHEMA) -> str:
        return f"{schema}.{entity}"

    def get(self, entity: str, schema: str = DEFAULT_SCHEMA) -> datetime | None:
        return self._cursors.get(self.key(entity, schema))

    def set(self, entity: str, cursor: datetime | None, schema: str = DEFAULT_SCHEMA) -> None:
        """Set the cursor (None forgets it: the next extraction reads the whole table)."""
        if cursor is None:
            self._cursors.pop(self.key(entity, schema), None)
        elif cursor.tzinfo is None:
            raise ValueError("the cursor must be timezone-aware (UTC)")
        else:
            self._cursors[self.key(entity, schema)] = cursor

    def to_dict(self) -> dict[str, str]:
        return {key: value.isoformat() for key, value in sorted(self._cursors.items())}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> "CursorStore":
        return cls({key: datetime.fromisoformat(value) for key, value in data.items()})

    @classmethod
    def load(cls, location: "Folder | str | os.PathLike", name: str = "erp_cursors.json") -> "CursorStore":
        return cls.from_dict(read_json(as_folder(location), name))

    def save(self, location: "Folder | str | os.PathLike", name: str = "erp_cursors.json") -> None:
        write_json(as_folder(location), name, self.to_dict())


class FileRegistry:
    """Files already loaded, by content hash: `{"<sha256>": {"file", "entity", "status", "rows", ...}}`.

    Reads the JSON at construction and writes it again after every `record`. A file whose every row was
    quarantined, or that could not be read at all, is not recorded: a corrected re-drop has other bytes anyway,
    and an identical one is quarantined again with the same reason.
    """

    def __init__(self, location: "Folder | str | os.PathLike", name: str = "file_registry.json"):
        self.folder, self.name = as_folder(location), name
        self._entries: dict[str, dict] = read_json(self.folder, name)

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, sha256: str) -> dict | None:
        """What was recorded when the content with this hash was loaded, or None."""
        entry = self._entries.get(sha256)
        return dict(entry) if entry is not None else None

    def record(self, sha256: str, entry: Mapping) -> None:
        self._entries[sha256] = dict(entry)
        write_json(self.folder, self.name, self._entries)
