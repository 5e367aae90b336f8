"""What an experiment is, validated once.

`ExperimentOptions` holds what both launchers share (benchmark, methods, seeds,
budget, overrides); `LocalSettings` adds what only a run on this machine needs.
Values come, highest precedence first, from the CLI's flags (passed in as
keyword arguments), `HPOBENCH_*` environment variables, an optional
`hpobench.toml` in the working directory, and the defaults below.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import Field, PositiveInt, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from hpobench.errors import UsageError, first_line

# The seed's method set, run in sequence when no --method is given.
DEFAULT_METHODS = ("RS", "BO", "ASHA", "MOBSTER")
CONFIG_FILE = "hpobench.toml"
ENV_PREFIX = "HPOBENCH_"
# S3 keys and SageMaker job names accept these; underscores break job names.
EXPERIMENT_TAG_PATTERN = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
EXPERIMENT_TAG_MAX_LENGTH = 40
MAX_RANDOM_SEED = 2**32 - 1
# Each seed is a whole tuner run; more than this is a typo, not a plan.
MAX_NUM_SEEDS = 1000
# inf or nan would pass `gt=0` and break arithmetic (and JSON) further on.
FinitePositive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


def default_results_root() -> Path:
    return Path("~/syne-tune").expanduser()


class _LayeredSettings(BaseSettings):
    """Flags (init kwargs) > HPOBENCH_* environment > hpobench.toml > defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, toml_file=CONFIG_FILE, extra="forbid", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _ListsInEnvironment(settings_cls), _CommandToml(settings_cls))


class _ListsInEnvironment(EnvSettingsSource):
    """HPOBENCH_METHODS and HPOBENCH_OVERRIDES as JSON, or as people type them:
    `ASHA` or `RS,ASHA`; `epochs=5` or `epochs=5,batch_size=64`."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            pass
        items = [item.strip() for item in str(value).split(",") if item.strip()]
        if field.annotation is dict or getattr(field.annotation, "__origin__", None) is dict:
            pairs = [item.partition("=") for item in items]
            if not all(sep and key.strip() for key, sep, _ in pairs):
                return value  # validation then names the field and the expected form
            return {key.strip(): text.strip() for key, _, text in pairs}
        return items


class _CommandToml(TomlConfigSettingsSource):
    """hpobench.toml may hold the settings of every command (e.g. `results_root` and
    `bucket`); each command takes its own and ignores the others' known keys."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        self._own_cls = settings_cls  # _read_file runs inside the base __init__
        super().__init__(settings_cls)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except ValueError as error:  # TOMLDecodeError (tomllib's or tomli's), UnicodeDecodeError
            raise UsageError(
                f"Cannot read {Path(file_path).resolve()}: {first_line(error)}; fix it (TOML, UTF-8) or remove it"
            ) from None
        own = set(self._own_cls.model_fields)
        others = {name for cls in _settings_classes() for name in cls.model_fields} - own
        return {k: v for k, v in data.items() if k not in others}


def _settings_classes() -> list[type[BaseSettings]]:
    found: list[type[BaseSettings]] = []
    pending = list(_LayeredSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


class _ExperimentTagOption(_LayeredSettings):
    # Default: the benchmark's name with '-' for '_' (run-local, launch-remote), 'table-' and
    # that name (tabulate).
    experiment_tag: Optional[str] = None

    @field_validator("experiment_tag")
    @classmethod
    def _valid_tag(cls, tag: Optional[str]) -> Optional[str]:
        if tag is not None:
            check_experiment_tag(tag)
        return tag


class ExperimentOptions(_ExperimentTagOption):
    """The experiment both launchers run: which benchmark, methods, seeds and budget."""

    benchmark: Optional[str] = None
    methods: tuple[str, ...] = DEFAULT_METHODS
    num_seeds: Annotated[int, Field(gt=0, le=MAX_NUM_SEEDS)] = 1
    start_seed: Annotated[int, Field(ge=0, le=MAX_RANDOM_SEED)] = 0
    n_workers: Optional[PositiveInt] = None
    max_wallclock_time: Optional[FinitePositive] = None
    max_num_evaluations: Optional[PositiveInt] = None
    random_seed: Optional[int] = Field(default=None, ge=0, le=MAX_RANDOM_SEED)
    overrides: dict[str, str] = Field(default_factory=dict)
    # Whether each method's first trial is the default configuration (the seed's default);
    # None: the benchmark's `default_first_trial`. A benchmark's points_to_evaluate win.
    default_first_trial: Optional[bool] = None
    # How single-objective methods tune a multi-objective benchmark, e.g. "weighted:0.5,0.5"
    # (benchmarks.objectives.Scalarization; checked against the benchmark when planned).
    scalarization: Optional[str] = None

    @field_validator("methods")
    @classmethod
    def _some_methods(cls, methods: tuple[str, ...]) -> tuple[str, ...]:
        if not methods:
            raise ValueError("give at least one method")
        return tuple(dict.fromkeys(methods))  # drop repeats, keep order

    @property
    def seeds(self) -> list[int]:
        """start_seed, ..., start_seed + num_seeds - 1."""
        return list(range(self.start_seed, self.start_seed + self.num_seeds))


# "fast" forks trials from a warm, pre-imported process; "stock" is Syne Tune's LocalBackend;
# "simulated" replays a table of real runs in simulated time (hpobench.tables).
Backend = Literal["fast", "stock", "simulated"]
# What predicts configurations outside a table (Syne Tune's add_surrogate; tables/simulated.py).
Surrogate = Literal["knn", "random_forest"]


# Options several commands share, each declared once with its validator; a command's
# settings class takes the ones it has.


class _ResultsRootOption(_LayeredSettings):
    results_root: Path = Field(default_factory=default_results_root)

    @field_validator("results_root")
    @classmethod
    def _expand(cls, root: Path) -> Path:
        return root.expanduser().absolute()  # Slurm jobs start elsewhere: never a relative path


class _TrialsPerGpuOption(_LayeredSettings):
    # Trials sharing one GPU (CUDA_VISIBLE_DEVICES); also caps trials run at once.
    trials_per_gpu: PositiveInt = 1


class _BackendOption(_LayeredSettings):
    backend: Backend = "fast"


class _TableOption(_LayeredSettings):
    # The table a simulated run replays (default: RESULTS_ROOT/tables/BENCHMARK) and the
    # surrogate that predicts configurations outside it.
    table: Optional[Path] = None
    surrogate: Optional[Surrogate] = None

    @model_validator(mode="after")
    def _simulated_only(self) -> _TableOption:
        given = [flag_of(name) for name in ("table", "surrogate") if getattr(self, name) is not None]
        if given and getattr(self, "backend", None) != "simulated":
            verb = "apply" if len(given) > 1 else "applies"
            raise UsageError(f"{' and '.join(given)} {verb} only to simulated runs; add --backend simulated")
        return self


class _ForceOption(_LayeredSettings):
    force: bool = False


class _DryRunOption(_LayeredSettings):
    dry_run: bool = False


class LocalSettings(
    ExperimentOptions, _ResultsRootOption, _TrialsPerGpuOption, _BackendOption, _TableOption, _ForceOption
):
    """Options of `hpobench run-local` on top of the experiment itself."""

    num_gpus_per_trial: PositiveInt = 1
    delete_checkpoints: bool = False
    # None: a run stops early only when its script evidently cannot run; a share: also when
    # more of its trials failed with 95% confidence; 1: never (local/failures.py).
    max_failed_fraction: Optional[float] = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    # Default: CPU cores, or GPUs for a benchmark meant for a GPU (hpobench.local.workers).
    max_workers: Optional[PositiveInt] = None
    # The GPUs trials may use, as CUDA_VISIBLE_DEVICES names them; default: every one this
    # process may use (a preset CUDA_VISIBLE_DEVICES, e.g. Slurm's, else all nvidia-smi lists).
    gpus: Optional[tuple[str, ...]] = None

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpu_names(cls, value: Any) -> Any:
        if isinstance(value, (str, int)):
            value = str(value).split(",")
        if isinstance(value, (list, tuple)):
            names = [str(gpu).strip() for gpu in value if str(gpu).strip()]
            if not names or len(set(names)) != len(names):
                raise ValueError("give distinct GPUs, e.g. 0,2")
            return tuple(names)
        return value


def check_experiment_tag(tag: str) -> None:
    """Raise ValueError unless `tag` is safe as an S3 prefix and in a SageMaker job name."""
    if len(tag) > EXPERIMENT_TAG_MAX_LENGTH or not EXPERIMENT_TAG_PATTERN.fullmatch(tag):
        raise ValueError(
            f"experiment tag {tag!r} must be 1-{EXPERIMENT_TAG_MAX_LENGTH} characters of "
            "lower-case letters, digits and '-', starting and ending with a letter or digit "
            "(S3 and SageMaker naming)"
        )


def load_settings(cls: type[_LayeredSettings], **flags: Any) -> Any:
    """Build `cls` from the given flags (None = not given) and the other layers.

    Validation errors become one-line UsageErrors that name the flag.
    """
    given = {k: v for k, v in flags.items() if v is not None}
    try:
        return cls(**given)
    except ValidationError as error:
        raise UsageError(_one_line(error)) from None
    except SettingsError as error:  # an environment variable that cannot be parsed
        raise UsageError(f"{first_line(error)} (check the {ENV_PREFIX}* variables)") from None


# The command-line flag of each setting whose flag is not `--` + its name with '-' for '_'.
FLAGS = {"overrides": "--set", "methods": "--method", "slurm_options": "--slurm-option"}


def flag_of(field: str) -> str:
    """The command-line flag that sets `field`."""
    return FLAGS.get(field, "--" + field.replace("_", "-"))


def own_fields(cls: type[_LayeredSettings], other: type[_LayeredSettings]) -> list[str]:
    """The settings of `cls` that `other` does not have, in declaration order."""
    return [name for name in cls.model_fields if name not in other.model_fields]


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    flag = flag_of(field) if field else "a setting"
    message = first["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    value = first.get("input")
    sources = f"(check the flag, {ENV_PREFIX}{field.upper()} and {CONFIG_FILE})"
    if field == "overrides" and first["type"] == "dict_type":
        message = "expected KEY=VALUE, several separated by ',', or a JSON object"
    if first["type"] == "extra_forbidden":
        return f"Unknown setting {field!r} in {CONFIG_FILE} or the environment; remove it"
    if isinstance(value, (str, int, float)) and first["type"] != "value_error":
        return f"Invalid {flag} {value!r}: {message} {sources}"
    return f"Invalid {flag}: {message} {sources}"


# SageMaker instance types look like ml.g4dn.12xlarge; the full list is checked
# against botocore's service model when a launch is planned.
INSTANCE_TYPE_PATTERN = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class RemoteSettings(ExperimentOptions, _TrialsPerGpuOption, _DryRunOption, _ForceOption):
    """Options of `hpobench launch-remote` on top of the experiment itself."""

    instance_type: Optional[str] = Field(default=None, description="default: the benchmark's")
    role: Optional[str] = None
    bucket: Optional[str] = Field(default=None, description="default: SageMaker's default bucket")
    region: Optional[str] = Field(default=None, description="default: the AWS default region")
    max_runtime: Optional[PositiveInt] = Field(
        default=None, description="seconds; default: the budget plus a set-up allowance"
    )
    data: Optional[str] = Field(default=None, description="folder or s3:// URI")
    spot: bool = False  # managed spot training; an interrupted job resumes its run
    max_wait: Optional[PositiveInt] = Field(
        default=None, description="seconds, with spot; default: twice the max runtime"
    )

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not INSTANCE_TYPE_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not a SageMaker instance type like ml.g4dn.12xlarge")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: Optional[str]) -> Optional[str]:
        if value is not None:
            value = value.removeprefix("s3://").rstrip("/")
            if not BUCKET_PATTERN.fullmatch(value):
                raise ValueError(f"{value!r} is not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')")
        return value


Engine = Literal["sagemaker", "slurm"]
# Slurm's memory sizes: a number, optionally with a unit (K, M, G, T).
SLURM_MEMORY_PATTERN = re.compile(r"^[0-9]+[KMGT]?$")
SLURM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.,:+-]+$")


class LaunchSettings(_LayeredSettings):
    """Which engine `hpobench launch-remote` uses."""

    engine: Engine = "sagemaker"


class _SlurmJobOptions(_LayeredSettings):
    """What each Slurm array task asks for (launch-remote --engine slurm, tabulate --engine slurm)."""

    partition: Optional[str] = None
    account: Optional[str] = None
    qos: Optional[str] = None
    gpus_per_job: Optional[Annotated[int, Field(ge=0)]] = Field(
        default=None, description="default: the GPUs of the benchmark's instance type"
    )
    cpus_per_job: Optional[PositiveInt] = Field(default=None, description="default: the workers")
    mem: Optional[str] = Field(default=None, description="default: the cluster's (DefMemPerCPU)")
    time_limit: Optional[str] = Field(default=None, description="default: the budget plus a set-up margin")
    max_parallel: Optional[PositiveInt] = None
    slurm_options: dict[str, str] = Field(default_factory=dict)

    @field_validator("backend", check_fields=False)
    @classmethod
    def _trials_run(cls, value: str) -> str:
        if value == "simulated":
            raise ValueError("a simulated run needs no cluster: run it with `hpobench run-local --backend simulated`")
        return value

    @field_validator("mem")
    @classmethod
    def _memory(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not SLURM_MEMORY_PATTERN.fullmatch(value.upper()):
            raise ValueError(f"{value!r} is not a Slurm memory size like 16G or 4000M")
        return value.upper() if value is not None else None

    @field_validator("partition", "account", "qos")
    @classmethod
    def _slurm_name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not SLURM_NAME_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not a Slurm name (letters, digits, '_', '.', ',', ':', '+', '-')")
        return value


class SlurmSettings(
    _SlurmJobOptions,
    ExperimentOptions,
    _ResultsRootOption,
    _TrialsPerGpuOption,
    _BackendOption,
    _DryRunOption,
    _ForceOption,
):
    """Options of `hpobench launch-remote --engine slurm` on top of the experiment itself."""


# The designs `hpobench tabulate` draws (tables/design.py maps them onto a search space).
Design = Literal["sobol", "random"]
# A table's configurations are each a trial per seed; more than this is a typo, not a plan.
MAX_TABLE_CONFIGS = 100_000


class TableSettings(_ExperimentTagOption, _ResultsRootOption, _BackendOption):
    """Options of `hpobench tabulate`: which benchmark, which design, how many seeds."""

    benchmark: Optional[str] = None
    configs: Annotated[int, Field(gt=0, le=MAX_TABLE_CONFIGS)]
    seeds: Annotated[int, Field(gt=0, le=MAX_NUM_SEEDS)] = 1
    design: Design = "sobol"
    design_seed: Annotated[int, Field(ge=0, le=MAX_RANDOM_SEED)] = 0
    n_workers: Optional[PositiveInt] = None
    max_workers: Optional[PositiveInt] = None
    # As run-local's: None stops a run only when its script evidently cannot run (local/failures.py).
    max_failed_fraction: Optional[float] = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    overrides: dict[str, str] = Field(default_factory=dict)
    table: Optional[Path] = None  # default: RESULTS_ROOT/tables/BENCHMARK

    @field_validator("table")
    @classmethod
    def _absolute(cls, path: Optional[Path]) -> Optional[Path]:
        return None if path is None else path.expanduser().absolute()


class TableSlurmSettings(_SlurmJobOptions, TableSettings):
    """Options of `hpobench tabulate --engine slurm`: the tabulation and each cell's resources
    (without --time-limit, the partition's default: a fixed design has no budget)."""
