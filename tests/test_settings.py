"""Settings precedence: flags > HPOBENCH_* environment > hpobench.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpobench.errors import UsageError
from hpobench.settings import CONFIG_FILE, DEFAULT_METHODS, LocalSettings, load_settings


def test_defaults(monkeypatch):
    monkeypatch.delenv("HPOBENCH_RESULTS_ROOT")
    settings = load_settings(LocalSettings)
    assert settings.methods == DEFAULT_METHODS
    assert settings.num_seeds == 1 and settings.start_seed == 0
    assert settings.n_workers is None  # the benchmark's default
    assert settings.results_root == Path("~/syne-tune").expanduser()


def test_toml_overrides_defaults():
    Path("hpobench.toml").write_text('n_workers = 3\nmethods = ["ASHA"]\n')
    settings = load_settings(LocalSettings)
    assert settings.n_workers == 3 and settings.methods == ("ASHA",)


def test_environment_overrides_toml(monkeypatch):
    Path("hpobench.toml").write_text("n_workers = 3\n")
    monkeypatch.setenv("HPOBENCH_N_WORKERS", "5")
    assert load_settings(LocalSettings).n_workers == 5


def test_flags_override_environment(monkeypatch):
    monkeypatch.setenv("HPOBENCH_N_WORKERS", "5")
    assert load_settings(LocalSettings, n_workers=7).n_workers == 7


def test_unset_flags_do_not_override(monkeypatch):
    monkeypatch.setenv("HPOBENCH_N_WORKERS", "5")
    assert load_settings(LocalSettings, n_workers=None).n_workers == 5


def test_results_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HPOBENCH_RESULTS_ROOT", str(tmp_path / "elsewhere"))
    assert load_settings(LocalSettings).results_root == tmp_path / "elsewhere"


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("HPOBENCH_NUM_SEEDS", "0")
    with pytest.raises(UsageError, match=r"--num-seeds.*HPOBENCH_NUM_SEEDS"):
        load_settings(LocalSettings)


def test_unknown_toml_key_is_named():
    Path("hpobench.toml").write_text("n_wrkers = 3\n")
    with pytest.raises(UsageError, match="Unknown setting 'n_wrkers'"):
        load_settings(LocalSettings)


def test_seeds_are_a_count_from_start():
    settings = load_settings(LocalSettings, num_seeds=3, start_seed=5)
    assert settings.seeds == [5, 6, 7]


@pytest.mark.parametrize(
    "variable,value,parsed",
    [
        ("HPOBENCH_METHODS", "ASHA", ("ASHA",)),
        ("HPOBENCH_METHODS", "RS, ASHA", ("RS", "ASHA")),
        ("HPOBENCH_METHODS", '["RS", "BO"]', ("RS", "BO")),
        ("HPOBENCH_OVERRIDES", "epochs=5", {"epochs": "5"}),
        ("HPOBENCH_OVERRIDES", "epochs=5,batch_size=64", {"epochs": "5", "batch_size": "64"}),
        ("HPOBENCH_OVERRIDES", '{"epochs": "5"}', {"epochs": "5"}),
    ],
)
def test_lists_in_the_environment_as_typed_or_as_json(monkeypatch, variable, value, parsed):
    monkeypatch.setenv(variable, value)
    settings = load_settings(LocalSettings)
    field = "methods" if variable.endswith("METHODS") else "overrides"
    assert getattr(settings, field) == parsed


def test_an_override_without_a_value_in_the_environment_is_one_line(invoke, monkeypatch):
    monkeypatch.setenv("HPOBENCH_OVERRIDES", "epochs")
    result = invoke("run-local", "--benchmark", "mlp_digits")
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid --set") and "HPOBENCH_OVERRIDES" in result.output
    assert "expected KEY=VALUE" in result.output


@pytest.mark.parametrize(
    "content,why",
    [(b"n_workers = [", "Invalid value"), (b"n_workers = 2\n# \xff\xfe\n", "can't decode byte 0xff")],
    ids=["malformed", "not-utf8"],
)
def test_a_broken_config_file_is_one_line(invoke, content, why):
    Path(CONFIG_FILE).write_bytes(content)
    result = invoke("run-local", "--benchmark", "mlp_digits")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: Cannot read {Path(CONFIG_FILE).resolve()}: ")
    assert why in lines[0] and "fix it (TOML, UTF-8) or remove it" in lines[0]
