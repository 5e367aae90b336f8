"""`hpobench launch-remote` and `hpobench sync`: experiments as SageMaker jobs or Slurm array tasks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hpobench.cli.common import stdout_console, user_errors
from hpobench.cli.options import (
    Benchmark,
    DefaultFirstTrial,
    ExperimentTag,
    MaxNumEvaluations,
    MaxWallclockTime,
    Methods,
    NumSeeds,
    NWorkers,
    Overrides,
    RandomSeed,
    Scalarization,
    StartSeed,
    TrialsPerGpu,
    experiment_flags,
    parse_key_values,
)
from hpobench.cli.slurm_options import (
    SlurmAccount,
    SlurmBackend,
    SlurmCpus,
    SlurmGpus,
    SlurmMaxParallel,
    SlurmMem,
    SlurmOptions,
    SlurmPartition,
    SlurmQos,
    SlurmResultsRoot,
    SlurmTimeLimit,
)
from hpobench.errors import UsageError


def launch_remote_command(
    experiment_tag: ExperimentTag = None,
    benchmark: Benchmark = None,
    method: Methods = None,
    num_seeds: NumSeeds = None,
    start_seed: StartSeed = None,
    n_workers: NWorkers = None,
    max_wallclock_time: MaxWallclockTime = None,
    max_num_evaluations: MaxNumEvaluations = None,
    random_seed: RandomSeed = None,
    overrides: Overrides = None,
    default_first_trial: DefaultFirstTrial = None,
    scalarization: Scalarization = None,
    instance_type: Annotated[
        Optional[str], typer.Option(help="SageMaker instance type of every job. Default: the benchmark's.")
    ] = None,
    trials_per_gpu: TrialsPerGpu = None,
    role: Annotated[
        Optional[str], typer.Option(help="SageMaker execution role, ARN or name. (env: HPOBENCH_ROLE)")
    ] = None,
    bucket: Annotated[
        Optional[str],
        typer.Option(
            help="S3 bucket for sources and results. (env: HPOBENCH_BUCKET; "
            "default: SageMaker's default bucket, sagemaker-REGION-ACCOUNT)"
        ),
    ] = None,
    region: Annotated[Optional[str], typer.Option(help="AWS region. Default: the AWS configuration's.")] = None,
    max_runtime: Annotated[
        Optional[int],
        typer.Option(
            help="MaxRuntimeInSeconds of every job. Default: the tuning budget plus 20 minutes "
            "for set-up (image, pip install, data, start-up).",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        Optional[str],
        typer.Option(
            help="Training data: a folder (uploaded once, content-addressed) or an s3:// URI; "
            "jobs read it from SM_CHANNEL_TRAINING.",
            show_default=False,
        ),
    ] = None,
    spot: Annotated[
        bool,
        typer.Option(
            "--spot",
            help="Managed spot training: jobs run on spare capacity at a lower price; SageMaker "
            "restarts an interrupted job, which resumes its run from the results it synced. "
            "(env: HPOBENCH_SPOT)",
        ),
    ] = False,
    max_wait: Annotated[
        Optional[int],
        typer.Option(
            help="With --spot: MaxWaitTimeInSeconds of every job (waiting for capacity plus "
            "running, at least --max-runtime). Default: twice the max runtime.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the jobs and their cost bound; call no AWS service.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="With --dry-run: print the complete plan as JSON (CreateTrainingJob's field "
            "names, the archive's files, requirements.txt and constraints.txt).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="SageMaker: submit jobs even for (method, seed) runs that already have one. "
            "Slurm: run complete cells again too (never a cell still pending or running).",
        ),
    ] = False,
    engine: Annotated[
        Optional[str],
        typer.Option(
            help="Where jobs run: 'sagemaker' (one training job per cell, results in S3) or "
            "'slurm' (one array task per cell, results on the shared file system). "
            "(env: HPOBENCH_ENGINE; default: sagemaker)",
            show_default=False,
        ),
    ] = None,
    results_root: SlurmResultsRoot = None,
    partition: SlurmPartition = None,
    account: SlurmAccount = None,
    qos: SlurmQos = None,
    gpus_per_job: SlurmGpus = None,
    cpus_per_job: SlurmCpus = None,
    mem: SlurmMem = None,
    time_limit: SlurmTimeLimit = None,
    max_parallel: SlurmMaxParallel = None,
    slurm_option: SlurmOptions = None,
    backend: SlurmBackend = None,
) -> None:
    """Run each (method, seed) cell as its own job: on SageMaker, or on a Slurm cluster.

    Example: [bold]hpobench launch-remote --benchmark mlp_digits --num-seeds 5 --role MyRole[/bold]

    SageMaker (default): each job runs [bold]run-local[/bold]'s launcher inside the
    container on the benchmark's instance type and writes results to
    s3://BUCKET/syne-tune/TAG/METHOD-SEED/; fetch them with [bold]hpobench sync[/bold].
    AWS credentials, region and endpoints come from the standard AWS configuration.
    Re-launching the same tag submits only the jobs that do not exist yet.

    Slurm ([bold]--engine slurm[/bold], on a login node): one job array, a task per
    cell, each running run-local's launcher with this Python and writing straight to
    RESULTS_ROOT/TAG/METHOD-SEED/ on the shared file system; logs in
    RESULTS_ROOT/TAG/slurm/logs/. Re-launching submits only cells that are not
    complete, pending or running. Follow with [bold]hpobench status[/bold].
    """
    from hpobench.settings import LaunchSettings, RemoteSettings, SlurmSettings, flag_of, load_settings, own_fields

    with user_errors():
        chosen = load_settings(LaunchSettings, engine=engine).engine
        experiment = experiment_flags(
            experiment_tag,
            benchmark,
            method,
            num_seeds,
            start_seed,
            n_workers,
            max_wallclock_time,
            max_num_evaluations,
            random_seed,
            overrides,
            default_first_trial=default_first_trial,
            scalarization=scalarization,
        )
        # Each engine's own options, from its settings class: the other engine's are refused.
        given = {
            "results_root": results_root,
            "partition": partition,
            "account": account,
            "qos": qos,
            "gpus_per_job": gpus_per_job,
            "cpus_per_job": cpus_per_job,
            "mem": mem,
            "time_limit": time_limit,
            "max_parallel": max_parallel,
            "slurm_options": slurm_option,
            "backend": backend,
            "instance_type": instance_type,
            "role": role,
            "bucket": bucket,
            "region": region,
            "max_runtime": max_runtime,
            "data": data,
            "spot": spot or None,
            "max_wait": max_wait,
        }
        mine, other = (SlurmSettings, RemoteSettings) if chosen == "slurm" else (RemoteSettings, SlurmSettings)
        wrong = [field for field in own_fields(other, mine) if given.get(field) is not None]
        if wrong:
            other_engine = "sagemaker" if chosen == "slurm" else "slurm"
            raise UsageError(f"{flag_of(wrong[0])} is an option of --engine {other_engine}, not of --engine {chosen}")
        if as_json and not dry_run:
            raise UsageError("--json prints the plan of a dry run; add --dry-run")
        if chosen == "slurm":
            from hpobench.cli import slurm

            settings = load_settings(
                SlurmSettings,
                **experiment,
                results_root=results_root,
                partition=partition,
                account=account,
                qos=qos,
                gpus_per_job=gpus_per_job,
                cpus_per_job=cpus_per_job,
                mem=mem,
                time_limit=time_limit,
                max_parallel=max_parallel,
                slurm_options=parse_key_values(slurm_option, "--slurm-option", "constraint=a100", True),
                trials_per_gpu=trials_per_gpu,
                backend=backend,
                dry_run=dry_run or None,
                force=force or None,
            )
            slurm.launch(settings, as_json)
            return
        settings = load_settings(
            RemoteSettings,
            **experiment,
            instance_type=instance_type,
            trials_per_gpu=trials_per_gpu,
            role=role,
            bucket=bucket,
            region=region,
            max_runtime=max_runtime,
            data=data,
            spot=spot or None,
            max_wait=max_wait,
            dry_run=dry_run or None,
            force=force or None,
        )
        if as_json and not settings.dry_run:  # dry_run may come from HPOBENCH_DRY_RUN
            raise UsageError("--json prints the plan of a dry run; add --dry-run")
        if settings.dry_run:
            _launch_dry_run(settings, as_json)
        else:
            _launch(settings)


def _jobs_table(plan: Any, names: Optional[dict[str, str]] = None, statuses: Optional[dict[str, str]] = None) -> Any:
    from hpobench.cli.console import format_seconds, table

    rows = []
    for job in plan.jobs:
        name = (names or {}).get(job.name_prefix, f"{job.name_prefix}-<time>")
        row = [name, job.run.method, job.run.seed, plan.instance_type, format_seconds(job.max_runtime), job.results_uri]
        if statuses is not None:
            row.insert(1, statuses.get(job.name_prefix, ""))
        rows.append(row)
    columns = ["job name", "method", "seed", "instance type", "max runtime", "results"]
    if statuses is not None:
        columns.insert(1, "status")
    return table(f"SageMaker jobs of {plan.experiment.experiment_tag}", columns, rows)


def _launch_dry_run(settings: Any, as_json: bool) -> None:
    import json

    from hpobench.remote.sagemaker import aws
    from hpobench.remote.sagemaker.dry_run import plan_document
    from hpobench.remote.sagemaker.plan import plan_remote

    # The same region rule as a real launch: no silent default.
    region = aws.require_region(settings.region)
    bucket = settings.bucket or f"sagemaker-{region}-ACCOUNT"
    plan = plan_remote(settings, region, bucket)
    document = plan_document(plan)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    console = stdout_console()
    console.print(_jobs_table(plan))
    archive, folder = document["source_archive"], document["script_folder"]
    left_out = ", ".join(f"{path} ({why})" for path, why in folder["left_out"].items())
    lines = [
        f"Source archive {archive['S3Uri']}: {len(archive['files'])} files "
        f"({archive['size_bytes'] / 1024:.0f} KB); from {folder['path']} -> "
        f"{folder['in_archive']}/: " + ", ".join(folder["packed"]) + (f"; left out: {left_out}" if left_out else ""),
        "requirements.txt:\n  " + plan.requirements.requirements_text().strip().replace("\n", "\n  "),
        "constraints.txt (what the image ships): " + (", ".join(plan.requirements.constraints) or "none"),
        "installed by the job's entry without their dependencies (no xgboost, hence no NCCL): "
        + (", ".join(plan.requirements.no_deps) or "none"),
    ]
    if plan.data is not None:
        source = f" from {plan.data.local} ({len(plan.data.files)} files)" if plan.data.local else ""
        lines.append(f"Data channel 'training' (SM_CHANNEL_TRAINING): {plan.data.s3_uri}{source}")
    if plan.jobs[0].max_wait is not None:
        lines.append(
            f"Managed spot training: each job waits and runs at most {plan.jobs[0].max_wait} s "
            "(MaxWaitTimeInSeconds); an interrupted job is restarted by SageMaker and resumes its run."
        )
    lines.append(
        f"Dry run: {len(plan.jobs)} job(s) of {plan.experiment.benchmark.name} on "
        f"{plan.instance_type} in {region}, at most {plan.instance_hours_at_most:.2f} "
        f"instance-hours (each at most {plan.jobs[0].max_runtime} s: the budget plus set-up); "
        f"master random seed {plan.experiment.master_random_seed}; "
        f"image {plan.image_uri}. Nothing was submitted."
    )
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _launch(settings: Any) -> None:
    import logging

    from hpobench.remote.sagemaker.submit import RESULTS_PREFIX, launch_remote

    # The SDK logs every step (and warns about defaults it picks); hpobench prints
    # its own summary, and AWS failures reach the user as one-line errors.
    for name in ("sagemaker", "botocore", "boto3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    console = stdout_console()
    err = _console_err()
    plan, outcomes = launch_remote(settings, say=lambda line: err.print(line, markup=False))
    names = {o.spec.name_prefix: o.job_name for o in outcomes}
    statuses = {o.spec.name_prefix: "submitted" if o.status == "submitted" else "exists (skipped)" for o in outcomes}
    console.print(_jobs_table(plan, names, statuses))
    submitted = sum(1 for o in outcomes if o.status == "submitted")
    skipped = len(outcomes) - submitted
    tag = plan.experiment.experiment_tag
    bucket_flag = f" --bucket {plan.bucket}" if settings.bucket else ""
    lines = [f"Submitted {submitted} job(s); {skipped} already existed (--force submits them again)."]
    lines.append(f"Results will appear under s3://{plan.bucket}/{RESULTS_PREFIX}/{tag}/ while the jobs run.")
    lines.append(f"Fetch them with: hpobench sync --experiment-tag {tag}{bucket_flag}")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _console_err() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr, width=160)


# ---------------------------------------------------------------- sync


def sync_command(
    experiment_tag: Annotated[str, typer.Option(help="The experiment whose results to download.", show_default=False)],
    results_root: Annotated[
        Optional[Path],
        typer.Option(
            help="Where results are written. (env: HPOBENCH_RESULTS_ROOT; default: ~/syne-tune)", show_default=False
        ),
    ] = None,
    bucket: Annotated[
        Optional[str],
        typer.Option(help="S3 bucket the jobs wrote to. (env: HPOBENCH_BUCKET; default: SageMaker's default bucket)"),
    ] = None,
    region: Annotated[Optional[str], typer.Option(help="AWS region. Default: the AWS configuration's.")] = None,
) -> None:
    """Download an experiment's results from S3 into the local results root.

    Example: [bold]hpobench sync --experiment-tag resnet-cifar10[/bold]

    Files land in RESULTS_ROOT/TAG/METHOD-SEED/, the layout [bold]run-local[/bold]
    writes; re-running fetches only new or changed files.
    """
    from hpobench.remote.sagemaker.sync import sync_experiment
    from hpobench.settings import LocalSettings, RemoteSettings, load_settings

    with user_errors():
        # The same layers as the launchers: flags, HPOBENCH_* variables, hpobench.toml.
        local = load_settings(LocalSettings, experiment_tag=experiment_tag, results_root=results_root)
        remote = load_settings(RemoteSettings, experiment_tag=experiment_tag, bucket=bucket, region=region)
        report = sync_experiment(experiment_tag, local.results_root, remote.bucket, remote.region)
    console = stdout_console()
    console.print(
        f"Synced {report.source} -> {report.destination}: {len(report.downloaded)} file(s) "
        f"downloaded, {report.unchanged} unchanged; runs: {', '.join(report.runs)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
