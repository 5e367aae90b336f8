"""The SageMaker engine: one training job per (method, seed), results synced through S3."""
