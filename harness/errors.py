"""Errors that reach the user: each says what went wrong and what to do about it."""


class HrtError(Exception):
    """A setup or usage problem; the CLI prints it and exits with status 2."""

    exit_status = 2


class UnknownVersion(HrtError):
    pass


class SourceUnavailable(HrtError):
    pass


class ChecksumMismatch(HrtError):
    pass


class DockerUnavailable(HrtError):
    pass


class CaseError(HrtError):
    """A malformed case file or template; the message names the file (and line or field)."""


class ConfigRejected(HrtError):
    """`haproxy -c` refused a rendered config."""

    def __init__(self, message: str, haproxy_output: str, config_text: str, config_path: str):
        numbered = "\n".join(f"{i:4d}  {line}" for i, line in enumerate(config_text.splitlines(), 1))
        super().__init__(
            f"{message}\nHAProxy said:\n{haproxy_output.strip()}\n\nRendered config ({config_path}):\n{numbered}"
        )
        self.haproxy_output = haproxy_output
        self.config_path = config_path


class BuildFailed(HrtError):
    def __init__(self, message: str, log_path: str, log_tail: str):
        super().__init__(f"{message}\nbuild log: {log_path}\n--- last lines ---\n{log_tail}")
        self.log_path = log_path
        self.log_tail = log_tail
