"""The fast local back-end: a warm fork server that starts one child per trial."""
