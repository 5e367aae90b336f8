"""The documentation's examples work as printed ("Your own benchmark", "Your own method" in
docs/extending.md) and its links lead somewhere: README.md and docs/*.md."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from hpobench.benchmarks.check import SCRIPT_CONTRACT

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
EXTENDING = ROOT / "docs" / "extending.md"


def _examples() -> dict[str, str]:
    """Fenced blocks that follow an `<!-- example: NAME -->` line, by NAME, in every page."""
    pattern = re.compile(r"<!-- example: (?P<name>\S+) -->\n```\w*\n(?P<body>.*?)\n```", re.S)
    return {m["name"]: m["body"] + "\n" for page in PAGES for m in pattern.finditer(page.read_text())}


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped, spaces as '-'."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_docs_state_the_script_contract_of_the_code():
    assert SCRIPT_CONTRACT in EXTENDING.read_text()


def test_the_docs_state_mobsters_kernel_as_the_code_does():
    from hpobench.methods.notes import MOBSTER_KERNEL

    assert MOBSTER_KERNEL in (ROOT / "docs" / "methods.md").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_page_and_heading(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}: no such file"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name} links to {target}: no such heading"


def test_the_readme_benchmark_passes_check_benchmark(invoke, tmp_path: Path):
    examples = _examples()
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("train.py", "quadratic.toml"):
        (folder / name).write_text(examples[name])
    result = invoke("check-benchmark", str(folder / "quadratic.toml"))
    assert result.exit_code == 0, result.output
    assert "quadratic: every check passed" in result.output


def test_the_readme_method_builds_a_scheduler():
    from syne_tune.optimizer.scheduler import TrialScheduler

    from hpobench.benchmarks import get_benchmark
    from hpobench.methods import MethodArguments

    namespace: dict = {}
    exec(compile(_examples()["my_hpo/methods.py"], "my_hpo/methods.py", "exec"), namespace)
    factory = namespace["my_random_search"]
    args = MethodArguments.for_benchmark(get_benchmark("mlp_digits"), random_seed=1)
    scheduler = factory(args)
    assert isinstance(scheduler, TrialScheduler)
    assert set(scheduler.suggest().config) == set(args.config_space)
    assert (factory.family, factory.multi_fidelity) == ("random search", False)


def test_the_readme_benchmark_plugin_loads_its_packaged_definition(tmp_path: Path):
    examples = _examples()
    package = tmp_path / "my_hpo"
    (package / "quadratic").mkdir(parents=True)
    for name in ("train.py", "quadratic.toml"):
        (package / "quadratic" / name).write_text(examples[name])
    module = package / "benchmarks.py"
    namespace: dict = {"__file__": str(module)}
    exec(compile(examples["my_hpo/benchmarks.py"], str(module), "exec"), namespace)
    definition = namespace["quadratic"]()
    assert definition.name == "quadratic"  # the entry point's name
    assert definition.script_path == (package / "quadratic" / "train.py").resolve()


@pytest.mark.parametrize("name", ["train.py", "quadratic.toml", "my_hpo/methods.py", "my_hpo/benchmarks.py"])
def test_each_example_is_in_the_docs(name):
    assert name in _examples()


def _shown_commands() -> list[tuple[str, list[str]]]:
    """(page, arguments) of every `hpobench ...` command in a fenced block of a page."""
    shown = []
    for page in PAGES:
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", page.read_text(), flags=re.M | re.S):
            for line in block.replace("\\\n", " ").splitlines():
                for segment in re.split(r"&&| \| |;", line):
                    if re.match(r"\s*(\S*/)?hpobench\s", segment):
                        words = shlex.split(segment, comments=True)
                        shown.append((page.name, [w.strip("[]") for w in words[1:]]))
    return shown


def test_every_command_in_the_docs_names_a_command_and_options_it_has():
    import typer.main

    from hpobench.cli import app

    shown = _shown_commands()
    assert len(shown) >= 25  # README and docs show many; an empty list would check nothing
    for page, words in shown:
        command = typer.main.get_command(app)
        while words and words[0] in getattr(command, "commands", {}):
            command = command.commands[words.pop(0)]
        assert not hasattr(command, "commands"), f"{page}: no such command: hpobench {' '.join(words)}"
        options = {o for p in command.params for o in [*p.opts, *p.secondary_opts] if o.startswith("-")}
        for word in words:
            if word.startswith("-") and word != "-":
                assert word.split("=")[0] in options, f"{page}: {command.name} has no option {word}"
