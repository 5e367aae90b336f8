"""Tables of real runs and the simulated back-end that replays methods on them (issue 28)."""
