"""The one exception family that reaches users as a one-line message, and the two ways
hpobench turns what failed into one line."""


class HpobenchError(Exception):
    """An expected failure; the CLI prints it as one line, without a traceback."""

    exit_code = 1


class UsageError(HpobenchError):
    """Bad input: a flag, a name or a value the user can fix."""

    exit_code = 2


class ExtraMissing(UsageError):
    """A method's library is not installed here (a SageMaker job installs it itself)."""


class RunError(HpobenchError):
    """The input was fine but the run could not be carried out."""

    exit_code = 1


def first_line(error: BaseException) -> str:
    """What an exception says, in one line: its message's first line, else its type's name."""
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def typed_first_line(error: BaseException) -> str:
    """The exception's type and first line ('KeyError: x'), or its type alone: for errors
    that come from code hpobench does not control (a plugin, an unpickled file)."""
    return f"{type(error).__name__}: {first_line(error)}" if str(error).strip() else type(error).__name__


def last_line(text: str) -> str:
    """The last non-blank line of `text` (a log, a process's stderr), stripped; '' if none:
    what a failed process said last."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class StoppedBySignal(RunError):
    """The run was stopped by Ctrl-C or SIGTERM; exits 128 + the signal number."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code
