"""SageMaker: plan, bundle, submit, sync, status and the in-container entry."""
