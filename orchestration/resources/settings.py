"""Where the embedded default keeps its state, and the lake a LAKE_URL names: pure functions, no Dagster.

Used by the resources (orchestration/resources/) and by the `importau` command alike, so both resolve the same
defaults: IMPORTAU_DATA_DIR, else `<repo>/data` (ingestion/common/data_dir.py, re-exported here).
"""

from pathlib import Path
from urllib.parse import urlsplit

from ingestion.common.data_dir import REPO_ROOT, default_data_dir, resolve_data_dir
from ingestion.common.lake import LocalLake, S3Bounds, S3Lake

__all__ = ["REPO_ROOT", "default_data_dir", "lake_from_settings", "resolve_data_dir"]


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
