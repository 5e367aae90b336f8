"""Run (method, seed) experiments on this machine with Syne Tune's local back-end."""
