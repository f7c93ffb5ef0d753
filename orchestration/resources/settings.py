"""Where the embedded default keeps its state, and the lake a LAKE_URL names: pure functions, no Dagster.

Used by the resources (orchestration/resources/) and by the `importau` command alike, so both resolve the same
defaults: IMPORTAU_DATA_DIR, else `<repo>/data` (ingestion/common/data_dir.py, re-exported here).
"""

from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from ingestion.common import settings_registry
from ingestion.common.data_dir import REPO_ROOT, default_data_dir, resolve_data_dir
from ingestion.common.lake import LocalLake, S3Bounds, S3Lake

__all__ = ["REPO_ROOT", "FromEnvironment", "default_data_dir", "lake_from_settings", "resolve_data_dir"]


class FromEnvironment:
    """For a Dagster resource whose fields come from the environment: `ENV` maps a field to its variable. A field
    left None (how `orchestration/defs/resources.py` binds them) is read through the settings registry
    (`ingestion/common/settings_registry.py`: the environment, else the registry's default) when the resource is
    used, never when the definitions are imported; a value given to the resource (a test, a run config) wins.
    Secrets thus never enter the resource's config."""

    ENV: ClassVar[dict[str, str]] = {}

    def setting(self, field: str, cast: type = str):
        given = getattr(self, field)
        if given is not None:
            return given
        name = self.ENV[field]
        raw = settings_registry.value(name).strip()
        if cast is str:
            return raw
        # a number set but left empty (`S3_CONNECT_TIMEOUT_SECONDS=` in a copied .env) means its default, not 0:
        # a 0-second timeout or a 0-day window would be a silent misconfiguration
        raw = raw or settings_registry.lookup(name).default.strip()
        try:
            return cast(raw) if raw else cast()
        except ValueError as error:
            raise ValueError(f"{name}={raw!r} is not a valid {cast.__name__}") from error


def lake_from_settings(
    url: str,
    data_dir: str,
    s3_endpoint_url: str = "",
    s3_access_key_id: str = "",
    s3_secret_access_key: str = "",
    s3_region: str = "",
    s3_bounds: S3Bounds | None = None,
) -> LocalLake | S3Lake:
    """LAKE_URL empty = folder `<data_dir>/lake`; a path = that folder; `s3://bucket[/prefix]` = S3Lake.

    Builds the lake without contacting it; `check_access()` on the result is the network check."""
    if not url:
        return LocalLake(Path(resolve_data_dir(data_dir)) / "lake")
    if not url.startswith("s3://"):
        return LocalLake(url.removeprefix("file://"))
    parts = urlsplit(url)
    if not parts.netloc:
        raise ValueError(f"LAKE_URL {url!r} names no bucket (expected s3://bucket[/prefix])")
    if not s3_endpoint_url:
        raise ValueError("LAKE_URL is s3://... but S3_ENDPOINT_URL is empty")
    return S3Lake(
        s3_endpoint_url,
        s3_access_key_id,
        s3_secret_access_key,
        bucket=parts.netloc,
        prefix=parts.path,
        region=s3_region or None,
        bounds=s3_bounds,
    )
