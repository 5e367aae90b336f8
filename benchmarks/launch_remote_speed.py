"""How fast does `launch-remote` submit jobs? Measured against a local moto server.

Launches the default study (every default method x 5 seeds = 20 jobs) and prints
seconds per launch and per job, the S3 uploads it made (the shared source
archive must be uploaded once per launch), the cost of a re-launch that finds
every job already there, and, for scale, one bare `create_training_job` call
made with boto3 in the same run.

    python benchmarks/launch_remote_speed.py [--seeds 5] [--benchmark mlp_digits]
    python benchmarks/launch_remote_speed.py --smoke   # one seed: the code path, not the speed

`--endpoint-url URL` uses a moto server already running there instead of starting one.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import tempfile
import time

from smoke_option import parse_with_smoke

SMOKE = {"seeds": 1, "bare_calls": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--benchmark", default=None, help="default: the default benchmark, else mlp_digits")
    parser.add_argument("--bare-calls", type=int, default=20, help="bare create_training_job calls to time")
    parser.add_argument("--endpoint-url", help="a running moto server (default: start one on a free port)")
    args = parse_with_smoke(parser, SMOKE)

    server, endpoint = None, args.endpoint_url
    if endpoint is None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
    empty = tempfile.mkdtemp()
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.path.join(empty, "config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(empty, "credentials"),
        SAGEMAKER_VALIDATE_ROLE="false",  # moto lacks iam:SimulatePrincipalPolicy
    )
    try:
        run(args)
    finally:
        if server is not None:
            server.stop()


def run(args: argparse.Namespace) -> None:
    import boto3

    from hpobench.benchmarks import DEFAULT_BENCHMARK
    from hpobench.remote.sagemaker.submit import launch_remote
    from hpobench.settings import RemoteSettings

    bucket, role = "speed-bucket", "arn:aws:iam::123456789012:role/speed"
    boto3.client("s3").create_bucket(Bucket=bucket)
    benchmark = args.benchmark or DEFAULT_BENCHMARK
    settings = RemoteSettings(
        benchmark=benchmark, num_seeds=args.seeds, experiment_tag="speed", role=role, bucket=bucket, random_seed=0
    )

    session = boto3.Session()
    puts: list[str] = []
    creates: list[dict] = []
    create_times: list[float] = []
    finished_at: list[float] = []
    started: dict[str, float] = {}
    session.events.register("before-parameter-build.s3.PutObject", lambda params, **_: puts.append(params["Key"]))
    session.events.register(
        "before-parameter-build.sagemaker.CreateTrainingJob", lambda params, **_: creates.append(dict(params))
    )
    session.events.register(
        "before-call.sagemaker.CreateTrainingJob", lambda **_: started.__setitem__("t", time.perf_counter())
    )

    def finished(**_: object) -> None:
        finished_at.append(time.perf_counter())
        create_times.append(finished_at[-1] - started["t"])

    session.events.register("after-call.sagemaker.CreateTrainingJob", finished)

    import sagemaker.train  # noqa: F401

    import hpobench.remote.sagemaker.submit  # noqa: F401  (imports are not part of a launch)

    t0 = time.perf_counter()
    start = t0
    _, outcomes = launch_remote(settings, say=print, boto_session=session)
    first = time.perf_counter() - t0
    submitted = sum(1 for o in outcomes if o.status == "submitted")
    source_uploads = [k for k in puts if k.startswith("hpobench/source/")]
    other_uploads = len(puts) - len(source_uploads)

    t0 = time.perf_counter()
    _, again = launch_remote(settings, say=print, boto_session=boto3.Session())
    relaunch = time.perf_counter() - t0

    # One bare CreateTrainingJob, the same request as the SDK sent, under new names.
    client = boto3.Session().client("sagemaker")
    bare: list[float] = []
    for i in range(args.bare_calls):
        request = dict(creates[i % len(creates)], TrainingJobName=f"bare-call-{i}")
        t0 = time.perf_counter()
        client.create_training_job(**request)
        bare.append(time.perf_counter() - t0)

    print(f"benchmark {benchmark}: {submitted} jobs submitted in one launch")
    print(f"  launch:                    {first:7.2f} s total, {first / max(submitted, 1):6.3f} s per job")
    further = (finished_at[-1] - finished_at[0]) / max(len(finished_at) - 1, 1)
    print(f"  until the first job (checks, listing, archive, SDK): {finished_at[0] - start:6.2f} s")
    print(f"  each further job:          {further:6.3f} s")
    print(f"  CreateTrainingJob inside:  {statistics.median(create_times):6.3f} s median per call")
    print(f"  bare create_training_job:  {statistics.median(bare):6.3f} s median of {len(bare)} boto3 calls")
    print(
        f"  S3 uploads: source archive {len(source_uploads)} (shared by all jobs), "
        f"SDK driver files {other_uploads} ({other_uploads / max(submitted, 1):.1f} per job)"
    )
    print(
        f"  re-launch (all {sum(o.status == 'exists' for o in again)} jobs exist): {relaunch:6.2f} s, 0 submitted"
        if not any(o.status == "submitted" for o in again)
        else "  re-launch submitted jobs!"
    )


if __name__ == "__main__":
    main()
