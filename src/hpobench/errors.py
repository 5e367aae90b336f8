"""The one exception family that reaches users as a one-line message."""


class HpobenchError(Exception):
    """An expected failure; the CLI prints it as one line, without a traceback."""

    exit_code = 1


class UsageError(HpobenchError):
    """Bad input: a flag, a name or a value the user can fix."""

    exit_code = 2


class RunError(HpobenchError):
    """The input was fine but the run could not be carried out."""

    exit_code = 1


class StoppedBySignal(RunError):
    """The run was stopped by Ctrl-C or SIGTERM; exits 128 + the signal number."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code
