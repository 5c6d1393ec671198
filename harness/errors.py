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


class Untestable(HrtError):
    """This HAProxy cannot be judged by the case here (it cannot be built with the profile, lacks what the
    case needs, refuses the case's config): the check's verdict is `untestable` for `reason`, and the run
    goes on. The runner turns it into that verdict in one place (runner._judgeable)."""

    @property
    def reason(self) -> str:
        return str(self)


class FeatureMissing(Untestable):
    """The tree cannot be built with the profile (e.g. quic on a pre-QUIC tree), a binary links libraries
    the runtime lacks, or the build lacks a feature the case requires."""


class CaseError(HrtError):
    """A malformed case file or template; the message names the file (and line or field)."""


class ConfigRejected(Untestable):
    """`haproxy -c` refused a rendered config (e.g. a keyword this version predates)."""

    def __init__(self, message: str, haproxy_output: str, config_text: str, config_path: str):
        numbered = "\n".join(f"{i:4d}  {line}" for i, line in enumerate(config_text.splitlines(), 1))
        super().__init__(
            f"{message}\nHAProxy said:\n{haproxy_output.strip()}\n\nRendered config ({config_path}):\n{numbered}"
        )
        self.haproxy_output = haproxy_output
        self.config_path = config_path

    @property
    def reason(self) -> str:
        alerts = [line.split(":", 2)[-1].strip() for line in self.haproxy_output.splitlines() if "[ALERT]" in line]
        return f"haproxy -c rejected the case's config: {alerts[0] if alerts else self.haproxy_output.strip()[:300]}"


class BuildFailed(Untestable):
    def __init__(self, message: str, log_path: str, log_tail: str):
        super().__init__(f"{message}\nbuild log: {log_path}\n--- last lines ---\n{log_tail}")
        self.log_path = log_path
        self.log_tail = log_tail
