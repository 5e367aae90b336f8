"""AWS sessions and the checks a launch or a sync makes before touching anything.

Endpoints and credentials come from the standard AWS configuration (profiles,
environment variables, `AWS_ENDPOINT_URL`); nothing here is hpobench-specific
configuration. Every expected failure becomes a one-line `UsageError` or
`RunError` that says what to fix.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any, Optional

from hpobench.errors import RunError, UsageError

NO_CREDENTIALS = (
    "No AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run `aws configure`"
)
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# Names under which AWS answers "slow down"; worth waiting for, not failing on.
RETRYABLE_CODES = frozenset(
    {
        "ResourceLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)


def resolve_region(region: Optional[str]) -> Optional[str]:
    """The given region, else the AWS configuration's default (None if there is none)."""
    if region:
        return region
    import botocore.session

    return botocore.session.get_session().get_config_variable("region")


def require_region(region: Optional[str], flag: str = "--region") -> str:
    """The region a command uses (given, else the AWS configuration's); the same
    UsageError for a dry run, a launch, a sync and `status --remote` when there is none."""
    resolved = resolve_region(region)
    if not resolved:
        pass_flag = f"pass {flag} or " if flag else ""
        raise UsageError(f"No AWS region configured; {pass_flag}set AWS_DEFAULT_REGION (or `region` in ~/.aws/config)")
    return resolved


def make_session(region: Optional[str], flag: str = "--region") -> Any:
    """A boto3 session in `region` with usable credentials; a UsageError otherwise."""
    import boto3
    import botocore.exceptions

    region = require_region(region, flag)
    try:
        session = boto3.Session(region_name=region)
        credentials = session.get_credentials()
    except botocore.exceptions.BotoCoreError as error:
        raise UsageError(f"AWS configuration problem: {error}") from None
    if credentials is None:
        raise UsageError(NO_CREDENTIALS)
    return session


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def describe(error: BaseException) -> str:
    """One line for an AWS failure."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


@contextlib.contextmanager
def calling(action: str) -> Iterator[None]:
    """Turn AWS failures during `action` into one-line errors."""
    import botocore.exceptions

    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise UsageError(NO_CREDENTIALS) from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise RunError(f"Cannot reach AWS {action}: {describe(error)}") from None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise RunError(f"AWS failed {action}: {describe(error)}") from None


def account_id(session: Any) -> str:
    """The caller's AWS account (STS GetCallerIdentity)."""
    with calling("identifying the caller (sts:GetCallerIdentity)"):
        return str(session.client("sts").get_caller_identity()["Account"])


def default_bucket(session: Any) -> str:
    """SageMaker's default bucket name: sagemaker-{region}-{account}."""
    return f"sagemaker-{session.region_name}-{account_id(session)}"


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """Whether S3 holds `key` in `bucket` (other errors propagate, e.g. to `calling`)."""
    import botocore.exceptions

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def check_bucket(session: Any, bucket: str) -> None:
    """Fail with a one-line error unless `bucket` exists and can be reached."""
    import botocore.exceptions

    try:
        session.client("s3").head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        code = error_code(error)
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise UsageError(
                f"S3 bucket {bucket!r} does not exist; create it "
                f"(aws s3 mb s3://{bucket}) or pass --bucket / set HPOBENCH_BUCKET"
            ) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise UsageError(
                f"S3 bucket {bucket!r} is not accessible with these credentials; "
                "pass another --bucket or fix its permissions"
            ) from None
        raise RunError(f"S3 bucket {bucket!r} cannot be checked: {describe(error)}") from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise RunError(f"S3 bucket {bucket!r} is not reachable: {describe(error)}") from None
    except botocore.exceptions.NoCredentialsError:
        raise UsageError(NO_CREDENTIALS) from None


def resolve_role(session: Any, role: Optional[str]) -> str:
    """The execution role's ARN: given as an ARN, or a role name looked up in IAM."""
    import botocore.exceptions

    if not role:
        raise UsageError("Missing SageMaker execution role; pass --role ARN_OR_NAME or set HPOBENCH_ROLE")
    if role.startswith("arn:"):
        if not ROLE_ARN_PATTERN.fullmatch(role):
            raise UsageError(f"Invalid --role {role!r}: expected arn:aws:iam::ACCOUNT:role/NAME or a role name")
        return role
    try:
        return str(session.client("iam").get_role(RoleName=role)["Role"]["Arn"])
    except botocore.exceptions.ClientError as error:
        if error_code(error) in ("NoSuchEntity", "NoSuchEntityException"):
            raise UsageError(f"IAM role {role!r} does not exist; pass an existing role name or ARN as --role") from None
        raise RunError(f"IAM role {role!r} cannot be looked up: {describe(error)}") from None
    except botocore.exceptions.EndpointConnectionError as error:
        raise RunError(f"Cannot reach IAM to look up role {role!r}: {describe(error)}") from None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/key/prefix' -> ('bucket', 'key/prefix')."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def check_role(sagemaker_session: Any, role_arn: str, say: Callable[[str], None]) -> None:
    """Run the SDK's own training-role validation (iam:SimulatePrincipalPolicy and the
    trust policy) now, before anything is uploaded, instead of at the first job."""
    import logging

    from sagemaker.core.helper import iam_role_resolver
    from sagemaker.train.defaults import TrainDefaults

    # When the SDK cannot tell (AccessDenied on the simulation), it goes on with a
    # warning; hpobench passes that on, as one line.
    unverified: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = unverified.append  # type: ignore[method-assign,assignment]
    logger = logging.getLogger(iam_role_resolver.__name__)
    saved = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        with calling(f"validating role {role_arn}"), role_validation(role_arn):
            TrainDefaults.get_role(role=role_arn, sagemaker_session=sagemaker_session)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    if unverified:
        say(
            f"Could not verify the permissions of role {role_arn} (these credentials may lack "
            "iam:SimulatePrincipalPolicy); going on"
        )


@contextlib.contextmanager
def role_validation(role_arn: str) -> Iterator[None]:
    """Turn the SDK's RoleValidationError (a plain Exception, whatever its module) into
    one line naming what the role lacks."""
    try:
        yield
    except Exception as error:
        if type(error).__name__ != "RoleValidationError":
            raise
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        missing = next((line for line in lines if line.startswith(("Missing", "Its trust"))), "")
        detail = f" ({missing.rstrip('.')})" if missing else ""
        raise UsageError(
            f"IAM role {role_arn} cannot run SageMaker training jobs{detail}; grant the "
            "permissions (and trust sagemaker.amazonaws.com) or pass another --role"
        ) from None
