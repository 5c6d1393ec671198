"""One HAProxy process in its own container: config check, master-worker start, readiness, stop, cleanup."""
import itertools
import os
import resource
import shutil
import tempfile
from pathlib import Path

import psutil
from docker.errors import APIError, NotFound
from docker.types import Ulimit

from .build import Build
from .dockerenv import TMP_PREFIX, client, labels, run_in_container
from .errors import ConfigRejected, HrtError
from .images import Images
from .netns import NetNS
from .runtime_api import MasterCLI, RuntimeAPI
from .shield import shielded
from .sidecar import Sidecar

WORK_DIR = "/work"
_serial = itertools.count()
STOP_TIMEOUT = 10


def socket_paths(workdir: str = WORK_DIR) -> dict:
    """Template parameters every config gets: where the stats socket lives inside the container."""
    return {"stats_sock": f"{workdir}/stats.sock", "workdir": workdir}


class HAProxyInstance:
    """A real HAProxy master-worker in a container with network_mode none (its own netns, loopback only),
    or joined to another container's namespace / a harness-made network for meshes."""

    def __init__(self, build: Build, images: Images, config_text: str, name: str,
                 extra_args: list[str] = (), network: str = "none", files: dict | None = None):
        self.build = build
        self.images = images
        self.name = name
        self.extra_args = list(extra_args)
        self.network = network
        # short path: unix sockets live here; the pid in the name lets `hrt setup` remove what a killed run left
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-"))
        try:
            os.chmod(self.workdir, 0o755)
            (self.workdir / "haproxy.cfg").write_text(config_text)
            for fname, content in (files or {}).items():
                (self.workdir / fname).write_text(content)
        except BaseException:   # an interrupt here: nobody holds this instance to clean it up
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self.config_text = config_text
        self.container = None
        self.tools: list[Sidecar] = []
        # named before it exists: an interrupt between its creation and the assignment still finds it
        self.container_name = f"hrt-{name}-{os.getpid()}-{next(_serial)}"
        self.netns: NetNS | None = None
        self.stats = RuntimeAPI(str(self.workdir / "stats.sock"))
        self.master = MasterCLI(str(self.workdir / "master.sock"))
        self.log_text = ""
        self.log_before_stop = ""
        self.exit_code: int | None = None
        self.gone_before_stop = False   # it had exited before stop() asked it to: a death, not our stop

    # --- lifecycle -------------------------------------------------------------------------------
    def _mounts(self) -> dict:
        return {**self.build.runtime.mounts, self.workdir: (WORK_DIR, "rw")}

    def check(self) -> None:
        """`haproxy -c` first; a refusal carries HAProxy's message and the numbered config."""
        status, out = run_in_container(self.build.runtime.image, ["-c", "-f", f"{WORK_DIR}/haproxy.cfg"],
                                       self._mounts(), 60, workdir=WORK_DIR, entrypoint=[self.build.runtime.exe])
        if status != 0:
            (self.workdir / "config-rejected.txt").write_text(out)   # kept with the evidence by close()
            raise ConfigRejected(f"haproxy -c rejected the config for {self.name} ({self.build.version})",
                                 out, self.config_text, str(self.workdir / "haproxy.cfg"))

    def start(self, ready_timeout: float = 20) -> "HAProxyInstance":
        self.check()
        nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 20000)
        args = ["-W", "-db", "-f", f"{WORK_DIR}/haproxy.cfg", "-S", f"{WORK_DIR}/master.sock", *self.extra_args]
        self.container = client().containers.run(
            self.build.runtime.image, args, entrypoint=[self.build.runtime.exe], detach=True,
            name=self.container_name,
            labels=labels(self.name), working_dir=WORK_DIR, init=True, cap_add=["SYS_PTRACE"],
            network_mode=self.network,
            ulimits=[Ulimit(name="core", soft=-1, hard=-1), Ulimit(name="nofile", soft=nofile, hard=nofile)],
            volumes={str(h): {"bind": c, "mode": m} for h, (c, m) in self._mounts().items()},
            environment={"ASAN_OPTIONS": "disable_coredump=0:abort_on_error=1:detect_leaks=0"})
        try:
            self.master.wait_ready(ready_timeout, alive=self.running)
        except Exception as exc:
            self._collect_logs()
            raise HrtError(f"{self.name}: HAProxy {self.build.version} did not become ready: {exc}\n"
                           f"{self.log_text[-3000:]}") from None
        self.netns = NetNS(self.host_pid())
        return self

    def running(self) -> bool:
        if not self.container:
            return False
        try:
            self.container.reload()
        except NotFound:
            return False
        return self.container.status == "running"

    def wait_exit(self, timeout: float) -> int | None:
        """The container's exit code if it exits within timeout (a crash ends the master too)."""
        try:
            self.exit_code = self.container.wait(timeout=timeout)["StatusCode"]
        except Exception:  # requests' ReadTimeout: still running
            return None
        return self.exit_code

    def kill(self) -> None:
        """SIGKILL the whole container (an abandoned scenario's HAProxy); it stays for stop() to collect."""
        try:
            self.container.kill()
        except (NotFound, APIError):
            pass

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the master), then force; keeps the log; removes the container."""
        if not self.container:
            try:   # interrupted inside containers.run(): the container may exist without our handle
                client().containers.get(self.container_name).remove(force=True)
            except APIError:   # none, or its removal already under way
                pass
            return
        for tool in self.tools:
            tool.remove()
        try:
            self.log_before_stop = self.output()
            self.gone_before_stop = not self.running()
            if not self.gone_before_stop:
                self.container.kill(signal="SIGTERM")
                self.wait_exit(STOP_TIMEOUT)
            self._collect_logs()
            if self.exit_code is None and not self.running():   # running() reloads: the exit code is fresh
                self.exit_code = self.container.attrs["State"].get("ExitCode")
        finally:
            try:
                self.container.remove(force=True)
            except APIError:   # gone, or its removal already under way (an interrupted earlier attempt)
                pass
            if self.netns:
                self.netns.close()
            self.container = None

    def close(self, evidence: Path) -> None:
        """stop(), then the work dir into `evidence` even if stopping failed; an interrupt waits for both."""
        with shielded():
            try:
                self.stop()
            finally:
                self.keep_evidence(evidence)

    def output(self) -> str:
        """What HAProxy printed so far (master and worker, stdout and stderr); "" once it is gone."""
        try:
            return self.container.logs(stdout=True, stderr=True).decode(errors="replace") if self.container else ""
        except APIError:   # gone, or dead and being removed
            return ""

    def _collect_logs(self) -> None:
        self.log_text = self.output()
        (self.workdir / "haproxy.log").write_text(self.log_text)

    def keep_evidence(self, dest: Path) -> Path:
        """Move the work dir (config, log, cores) to dest, dropping sockets."""
        dest.mkdir(parents=True, exist_ok=True)
        if not self.workdir.exists():
            return dest
        for p in self.workdir.iterdir():
            if p.is_socket():
                continue
            shutil.move(str(p), dest / p.name)
        shutil.rmtree(self.workdir, ignore_errors=True)
        return dest

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        """As a context manager (no evidence kept): stop, and its work dir goes too."""
        with shielded():
            try:
                self.stop()
            finally:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def spawn(self, argv: list[str], timeout: float) -> Sidecar:
        """Start a tool of hrt's runtime image beside HAProxy (harness/sidecar.py); removed by stop()."""
        tool = Sidecar(self.images.runtime, self.container.id, self.workdir, argv, timeout)
        self.tools.append(tool)
        return tool

    def exec(self, argv: list[str], timeout: float) -> tuple[int, str]:
        """Run a tool beside HAProxy to its end (at most `timeout` s): (exit status, its output)."""
        tool = self.spawn(argv, timeout)
        try:
            status = tool.wait(timeout + 10)
            return (-1 if status is None else status), tool.output()
        finally:
            tool.remove()

    def address(self) -> str:
        """Its IPv4 address on the harness-made network it joined (a mesh member's real address)."""
        self.container.reload()
        return self.container.attrs["NetworkSettings"]["Networks"][self.network]["IPAddress"]

    # --- process views ---------------------------------------------------------------------------
    def host_pid(self) -> int:
        """Host pid of the master (the init's haproxy child); used for the netns and psutil views."""
        init = psutil.Process(self.container.attrs["State"]["Pid"])
        for child in init.children():
            if "haproxy" in " ".join(child.cmdline()[:1]):
                return child.pid
        return init.pid

    def worker_pids(self) -> list[int]:
        try:
            master = psutil.Process(self.host_pid())
            return [c.pid for c in master.children() if "haproxy" in " ".join(c.cmdline()[:1])]
        except (psutil.Error, HrtError):
            return []
