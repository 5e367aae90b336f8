"""The training data channel of `launch-remote --data PATH|s3://...`.

Every job of a launch gets the data as its "training" channel, which SageMaker
downloads to /opt/ml/input/data/training and announces as SM_CHANNEL_TRAINING
(the benchmarks' scripts look there first). A local folder (or file) is uploaded
once, under a key named by the hash of its content, so later launches with the
same data reuse it; the same rules as the source archive keep secrets,
environments and caches out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from hpobench.errors import UsageError
from hpobench.remote.sagemaker import aws
from hpobench.remote.sagemaker.archive_rules import ArchiveFile, select_files

CHANNEL_NAME = "training"
DATA_PREFIX = "hpobench/data"
# Written last, next to (not inside) the channel's prefix: its presence says the
# upload is complete.
COMPLETE_SUFFIX = ".complete"


@dataclass(frozen=True)
class DataChannel:
    """Where the jobs' training data comes from."""

    s3_uri: str  # the channel's S3 prefix, ending in '/'
    local: Optional[Path] = None  # the folder or file to upload there, if any
    files: tuple[ArchiveFile, ...] = ()

    def channel(self) -> dict[str, Any]:
        """The InputDataConfig entry (CreateTrainingJob's field names)."""
        return s3_channel(CHANNEL_NAME, self.s3_uri)


def s3_channel(name: str, s3_uri: str) -> dict[str, Any]:
    """An InputDataConfig entry that copies everything under `s3_uri` to every instance."""
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": s3_uri, "S3DataDistributionType": "FullyReplicated"}
        },
    }


def plan_data_channel(data: str, bucket: str, hash_content: bool = True) -> DataChannel:
    """The channel of `--data` (offline: a local folder is hashed, not uploaded).

    `hash_content` False: the folder is checked and listed but not read, and the
    channel's key is left unnamed (a check before the real plan; hashing a large
    data set twice per launch would double its cost).
    """
    if data.startswith("s3://"):
        bucket_name, key = aws.split_s3_uri(data)
        if not bucket_name:
            raise UsageError(f"Invalid --data {data!r}: expected s3://BUCKET/PREFIX or a folder")
        return DataChannel(data if data.endswith("/") or not key else data + "/")
    local = Path(data).expanduser()
    if not local.exists():
        raise UsageError(f"Invalid --data {data!r}: no such folder or file; pass a folder or s3:// URI")
    files = _data_files(local)
    if not files:
        raise UsageError(f"--data {data!r} holds no files to upload")
    digest = content_hash(files) if hash_content else "not-hashed"
    return DataChannel(f"s3://{bucket}/{DATA_PREFIX}/{digest[:16]}/", local.resolve(), files)


def _data_files(local: Path) -> tuple[ArchiveFile, ...]:
    from pathlib import PurePosixPath

    if local.is_file():
        return (ArchiveFile(PurePosixPath(local.name), local, local.stat().st_size),)
    return tuple(select_files(local).files)


def content_hash(files: tuple[ArchiveFile, ...]) -> str:
    """SHA-256 over every file's relative path and bytes."""
    digest = hashlib.sha256()
    for item in files:
        digest.update(item.relative.as_posix().encode() + b"\0")
        with item.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def check_data(session: Any, channel: DataChannel) -> None:
    """UsageError unless an s3:// channel holds at least one object (checked before any
    upload; a local folder was read when the plan was made)."""
    if channel.local is not None:
        return
    bucket, prefix = aws.split_s3_uri(channel.s3_uri)
    with aws.calling(f"listing --data {channel.s3_uri}"):
        listed = session.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    if not listed.get("KeyCount"):
        raise UsageError(f"--data {channel.s3_uri} holds no objects; upload the data there or pass a local folder")


def stage_data(session: Any, channel: DataChannel) -> bool:
    """Upload a local data channel unless the same content is already there; returns
    whether anything was uploaded."""
    if channel.local is None:
        return False
    bucket, prefix = aws.split_s3_uri(channel.s3_uri)
    s3 = session.client("s3")
    with aws.calling(f"uploading --data to {channel.s3_uri}"):
        if aws.object_exists(s3, bucket, prefix.rstrip("/") + COMPLETE_SUFFIX):
            return False
        for item in channel.files:
            s3.upload_file(str(item.path), bucket, prefix + item.relative.as_posix())
        s3.put_object(Bucket=bucket, Key=prefix.rstrip("/") + COMPLETE_SUFFIX, Body=b"")
    return True
