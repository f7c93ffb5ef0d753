"""The lake as a Dagster resource: a local folder by default, or an S3 bucket (LAKE_URL=s3://bucket/prefix)."""

from typing import ClassVar

import dagster as dg
from pydantic import Field

from ingestion.common.lake import Lake, S3Bounds
from orchestration.resources.settings import FromEnvironment, lake_from_settings


class LakeResource(FromEnvironment, dg.ConfigurableResource):
    """Builds the Lake the assets write through; the S3 keys stay out of repr, logs and metadata. A field left None
    is read from its variable (`ENV`) when used."""

    ENV: ClassVar[dict[str, str]] = {
        "url": "LAKE_URL",
        "s3_endpoint_url": "S3_ENDPOINT_URL",
        "s3_access_key_id": "S3_ACCESS_KEY_ID",
        "s3_secret_access_key": "S3_SECRET_ACCESS_KEY",
        "s3_region": "S3_REGION",
        "s3_connect_timeout_seconds": "S3_CONNECT_TIMEOUT_SECONDS",
        "s3_read_timeout_seconds": "S3_READ_TIMEOUT_SECONDS",
        "s3_max_retries": "S3_MAX_RETRIES",
    }

    url: str | None = Field(default=None, description="empty (<data_dir>/lake), a folder path, or s3://bucket[/prefix]")
    data_dir: str = Field(default="", description="IMPORTAU_DATA_DIR")
    s3_endpoint_url: str | None = Field(default=None, description="e.g. http://127.0.0.1:9000 (MinIO, SeaweedFS, S3)")
    s3_access_key_id: str | None = Field(default=None, repr=False)
    s3_secret_access_key: str | None = Field(default=None, repr=False)
    s3_region: str | None = None
    s3_connect_timeout_seconds: int | None = Field(default=None, description="each S3 attempt")
    s3_read_timeout_seconds: int | None = Field(default=None, description="each wait for S3 bytes")
    s3_max_retries: int | None = Field(default=None, description="retries of one S3 call after its first try")

    def get_lake(self, check: bool = True) -> Lake:
        """The lake, checked first (an S3 endpoint, keys and bucket answer), so a step fails before it does
        anything, such as pulling a source, when the lake cannot take its writes. `check=False` skips it."""
        lake = lake_from_settings(
            self.setting("url"),
            self.data_dir,
            s3_endpoint_url=self.setting("s3_endpoint_url"),
            s3_access_key_id=self.setting("s3_access_key_id"),
            s3_secret_access_key=self.setting("s3_secret_access_key"),
            s3_region=self.setting("s3_region"),
            s3_bounds=S3Bounds(
                connect_timeout=self.setting("s3_connect_timeout_seconds", int),
                read_timeout=self.setting("s3_read_timeout_seconds", int),
                max_retries=self.setting("s3_max_retries", int),
            ),
        )
        if check:
            lake.check_access()
        return lake
