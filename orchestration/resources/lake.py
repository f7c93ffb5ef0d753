"""The lake as a Dagster resource: a local folder by default, or an S3 bucket (LAKE_URL=s3://bucket/prefix)."""

import dagster as dg
from pydantic import Field

from ingestion.common.lake import S3_CONNECT_TIMEOUT_S, S3_MAX_RETRIES, S3_READ_TIMEOUT_S, Lake, S3Bounds
from orchestration.resources.settings import lake_from_settings


class LakeResource(dg.ConfigurableResource):
    """Builds the Lake the assets write through; the S3 keys stay out of repr, logs and metadata."""

    url: str = Field(default="", description="empty (<data_dir>/lake), a folder path, or s3://bucket[/prefix]")
    data_dir: str = Field(default="", description="IMPORTAU_DATA_DIR")
    s3_endpoint_url: str = Field(default="", description="e.g. http://127.0.0.1:9000 (MinIO, SeaweedFS, S3)")
    s3_access_key_id: str = Field(default="", repr=False)
    s3_secret_access_key: str = Field(default="", repr=False)
    s3_region: str = ""
    s3_connect_timeout_seconds: int = Field(default=S3_CONNECT_TIMEOUT_S, description="each S3 attempt")
    s3_read_timeout_seconds: int = Field(default=S3_READ_TIMEOUT_S, description="each wait for S3 bytes")
    s3_max_retries: int = Field(default=S3_MAX_RETRIES, description="retries of one S3 call after its first try")

    def get_lake(self, check: bool = True) -> Lake:
        """The lake, checked first (an S3 endpoint, keys and bucket answer), so a step fails before it does
        anything, such as pulling a source, when the lake cannot take its writes. `check=False` skips it."""
        lake = lake_from_settings(
            self.url,
            self.data_dir,
            s3_endpoint_url=self.s3_endpoint_url,
            s3_access_key_id=self.s3_access_key_id,
            s3_secret_access_key=self.s3_secret_access_key,
            s3_region=self.s3_region,
            s3_bounds=S3Bounds(
                connect_timeout=self.s3_connect_timeout_seconds,
                read_timeout=self.s3_read_timeout_seconds,
                max_retries=self.s3_max_retries,
            ),
        )
        if check:
            lake.check_access()
        return lake
