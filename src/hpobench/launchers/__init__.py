"""Launchers: run (method, seed) experiments here, or as SageMaker jobs."""
