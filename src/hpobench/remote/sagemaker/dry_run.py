"""What `launch-remote --dry-run` shows: the complete plan, offline.

Per job, the fields of its CreateTrainingJob request that hpobench decides, under
CreateTrainingJob's own names; the source archive with its file list,
`requirements.txt` and `constraints.txt`; the data channel. The SDK adds its
driver channel (`sm_drivers`) and entry point at submission.
"""

from __future__ import annotations

from typing import Any

from hpobench.remote.sagemaker.archive_rules import select_script_folder
from hpobench.remote.sagemaker.bundle import SourceBundle, build_bundle, script_destination
from hpobench.remote.sagemaker.data import s3_channel
from hpobench.remote.sagemaker.plan import RemotePlan


def source_uri(plan: RemotePlan, bundle: SourceBundle) -> str:
    from hpobench.remote.sagemaker.submit import SOURCE_PREFIX

    return f"s3://{plan.bucket}/{SOURCE_PREFIX}/{bundle.file_name}"


def plan_document(plan: RemotePlan) -> dict[str, Any]:
    """The plan as JSON-ready data (builds the source archive to list it)."""
    from hpobench.remote.sagemaker.entry import job_environment

    bundle = build_bundle(plan.experiment.benchmark, plan.requirements, plan.experiment.methods)
    code_uri = source_uri(plan, bundle)
    channels = [s3_channel("code", code_uri)]
    if plan.data is not None:
        channels.append(plan.data.channel())
    experiment = plan.experiment
    benchmark = experiment.benchmark
    folder = select_script_folder(benchmark.script_dir)
    return {
        "experiment_tag": experiment.experiment_tag,
        "benchmark": experiment.benchmark.name,
        "region": plan.region,
        "bucket": plan.bucket,
        "master_random_seed": experiment.master_random_seed,
        "instance_hours_at_most": round(plan.instance_hours_at_most, 4),
        "script_folder": {
            "path": str(benchmark.script_dir),
            "in_archive": str(script_destination(benchmark)),
            "packed": [f.relative.as_posix() for f in folder.files],
            "left_out": folder.left_out,  # path (folders end in '/') -> why
        },
        "source_archive": {
            "S3Uri": code_uri,
            "sha256": bundle.sha256,
            "size_bytes": len(bundle.data),
            "files": bundle.files,
            "requirements.txt": plan.requirements.requirements_text(),
            "constraints.txt": plan.requirements.constraints_text(),
            "requirements-no-deps.txt": plan.requirements.no_deps_text(),
        },
        "data": None
        if plan.data is None
        else {
            "S3Uri": plan.data.s3_uri,
            "local": None if plan.data.local is None else str(plan.data.local),
            "files": len(plan.data.files),
        },
        "jobs": [
            {
                "job_name_prefix": job.name_prefix,  # the SDK appends -YYYYmmddHHMMSS
                "method": job.run.method,
                "seed": job.run.seed,
                "AlgorithmSpecification": {"TrainingImage": plan.image.uri, "TrainingInputMode": "File"},
                "ResourceConfig": {"InstanceType": plan.instance_type, "InstanceCount": 1},
                "StoppingCondition": job.stopping_condition(),
                "EnableManagedSpotTraining": job.max_wait is not None,
                "HyperParameters": job.hyperparameters,
                "CheckpointConfig": job.checkpoint_config(),
                "InputDataConfig": channels,
                "Environment": job_environment(),
                "Tags": [{"Key": k, "Value": v} for k, v in job.tags.items()],
            }
            for job in plan.jobs
        ],
    }
