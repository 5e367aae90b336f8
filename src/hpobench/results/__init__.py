"""What an experiment left on disk, and what is made of it.

- `layout`: the results folder's names and files (written by the runs, read here).
- `record`: what a run's metadata.json says, typed (the three seeds named apart).
- `load`: every expected run of an experiment, whatever state its folder is in.
- `aggregate`: per-benchmark anytime curves, final bests, ranks (`hpobench results`, `plot`).
- `render`: those as tables, CSV, JSON and Markdown.
- `plot`: those as figures.

Nothing heavy is imported here: `layout` is used by every run.
"""
