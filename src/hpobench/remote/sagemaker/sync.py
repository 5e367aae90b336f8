"""Download an experiment's results from S3 into the local results layout.

Jobs write `s3://{bucket}/syne-tune/{tag}/{method}-{seed}/{tuner}/...`; this lands
them at `{results_root}/{tag}/{method}-{seed}/{tuner}/...`, exactly where
`run-local` writes, so every command that reads results works on both. Like
`aws s3 sync`, a file is fetched only when it is missing locally, differs in
size, or is newer in S3.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from hpobench.errors import UsageError
from hpobench.remote.sagemaker import aws
from hpobench.remote.sagemaker.plan import RESULTS_PREFIX


@dataclass
class SyncReport:
    """What a sync did."""

    source: str
    destination: Path
    downloaded: list[Path] = field(default_factory=list)
    unchanged: int = 0
    runs: list[str] = field(default_factory=list)  # {method}-{seed} folders seen


def sync_experiment(
    experiment_tag: str,
    results_root: Path,
    bucket: Optional[str] = None,
    region: Optional[str] = None,
    boto_session: Any = None,
) -> SyncReport:
    """Fetch new or changed result files of `experiment_tag`; a UsageError if none exist."""
    session = boto_session or aws.make_session(region)
    bucket = bucket or aws.default_bucket(session)
    aws.check_bucket(session, bucket)
    prefix = f"{RESULTS_PREFIX}/{experiment_tag}/"
    destination = results_root / experiment_tag
    report = SyncReport(f"s3://{bucket}/{prefix}", destination)
    s3 = session.client("s3")
    runs: set[str] = set()
    with aws.calling(f"listing s3://{bucket}/{prefix}"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = _safe_relative(item["Key"][len(prefix) :])
                if relative is None:
                    continue
                runs.add(relative.parts[0])
                target = destination.joinpath(*relative.parts)
                modified = item["LastModified"].timestamp()
                if _up_to_date(target, item["Size"], modified):
                    report.unchanged += 1
                    continue
                _download(s3, bucket, item["Key"], target, modified)
                report.downloaded.append(target)
    if not runs:
        raise UsageError(
            f"No results for experiment {experiment_tag!r} under s3://{bucket}/{prefix}; "
            "check --experiment-tag and --bucket (jobs upload results while they run)"
        )
    report.runs = sorted(runs)
    return report


def _safe_relative(key: str) -> Optional[PurePosixPath]:
    """The key below the experiment prefix, or None for folder markers and keys that
    would escape the destination folder."""
    if not key or key.endswith("/"):
        return None
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return None
    return path


def _up_to_date(target: Path, size: int, modified: float) -> bool:
    try:
        stat = target.stat()
    except OSError:
        return False
    return stat.st_size == size and stat.st_mtime >= modified


def _download(s3: Any, bucket: str, key: str, target: Path, modified: float) -> None:
    """Download to a temporary name, then rename, so an interrupted sync leaves no
    half-written file that a later sync would take for complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".hpobench-partial")
    s3.download_file(bucket, key, str(partial))
    # The S3 time becomes the file's time: the next sync compares against it.
    os.utime(partial, (modified, modified))
    os.replace(partial, target)
