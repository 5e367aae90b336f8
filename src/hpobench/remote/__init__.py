"""Running experiments elsewhere: the engines (`sagemaker/`, `slurm/`) and what they share."""
