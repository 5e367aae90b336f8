"""The Slurm engine: one array task per (method, seed) on a shared file system, through Slurm's own commands."""
