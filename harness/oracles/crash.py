"""Crash evidence: worker exit signal, core + gdb backtrace + signature, BUG_ON text, ASAN report."""
import re
import signal

from ..cores import core_pattern, why_lost
from ..dockerenv import run_in_container
from .base import Finding, Oracle

WORKER_EXIT_RE = re.compile(r"(?:Current )?worker (?:#\d+ )?\((\d+)\) exited with code (\d+)(?: \(([^)]*)\))?")
FATAL_RE = re.compile(r"FATAL: bug condition \"(.*?)\" matched at ([^\s]+)")
ASAN_RE = re.compile(r"ERROR: AddressSanitizer: ([\w-]+)")
PANIC_RE = re.compile(r"(?m)^.*?(Thread \d+ is about to kill the process\.?|PANIC! Thread \d+.*)$")
NO_SYMBOLS_RE = re.compile(r"\(No debugging symbols found in \S*haproxy\)|No symbol table is loaded")
NOISE_FRAMES = re.compile(r"^(raise|abort|__GI_|__pthread_kill|pthread_kill|__restore_rt|killpg|kill|"
                          r"__libc_|_IO_|ha_panic|ha_thread_dump|ha_backtrace|__sanitizer|__asan|__interceptor)")


def _signame(code: int) -> str:
    try:
        return signal.Signals(code - 128).name if code > 128 else ""
    except ValueError:
        return f"signal {code - 128}"


FRAME_RE = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?([\w.:~<>?]+) \(.*?\)(?: from (\S+))?", re.M)


def frames(bt: str) -> list[tuple[str, str]]:
    """(function, shared library or "") of each frame of a gdb `bt`, innermost first."""
    return FRAME_RE.findall(bt)


def signature(bt: str, depth: int = 4) -> str:
    """The innermost frames of the binary and its non-libc libraries (liblua stays, libc and the
    panic/abort helpers go): a crash's identity across runs and builds."""
    own = []
    for func, lib in frames(bt):
        if func == "??" or NOISE_FRAMES.match(func) or "libc.so" in lib or "libpthread" in lib:
            continue
        if not own or own[-1] != func:
            own.append(func)
    return " < ".join(own[:depth])


def backtrace(run, core) -> str:
    """gdb on the core, where the binary's libraries are: hrt's runtime image, a package image made from
    it, or a user's image read as sysroot. A binary without symbols gets its backtrace all the same, and
    the text says so in its first line."""
    image, gdb, mounts = run.build.runtime.gdb(run.images.runtime, core.parent)
    cmd = [*gdb[:-1], "-ex", "set pagination off", "-ex", "echo == crashing thread ==\\n", "-ex", "bt",
           "-ex", "echo == all threads ==\\n", "-ex", "thread apply all bt", gdb[-1], f"/work/{core.name}"]
    _, out = run_in_container(image, cmd[1:], mounts, 180, entrypoint=cmd[:1])
    crashing = out.split("== all threads ==")[0]
    if NO_SYMBOLS_RE.search(out) or " in ?? (" in crashing:
        out = (f"== symbols missing: {run.build.runtime.exe} is stripped (frames ?? or exported names only; "
               f"debug symbols: {run.build.runtime.identity.get('debug_symbols', 'none found')}) ==\n") + out
    return out


class Crash(Oracle):
    """Fires when a worker died by a signal, a BUG_ON fired, or ASAN reported an error.

    options: signals (accepted signal names, default any), require_core (default false),
    keep_core (default true; false deletes the core once its backtrace is saved).
    A named bug's signature (all required, one death must show each): fatal (regex on the
    `FATAL: bug condition "..." matched at FILE` line), stack (functions the crashing thread's core
    backtrace must contain; implies a core), log (regex on a line of HAProxy's output, e.g. the
    watchdog's words). Any death that is not the accepted one (another signal, a worker's error exit,
    HAProxy gone before the harness stopped it, a partial signature) is inconclusive ("other
    failure"), never held: the exposure ended early.
    """
    name = "crash"
    OPTIONS = {"signals": list, "require_core": bool, "keep_core": bool, "fatal": str, "stack": list, "log": str}

    def judge(self, run) -> Finding:
        log = run.haproxy_log
        # worker exits after the harness asked HAProxy to stop are the stop itself, not a crash
        exits = [(int(pid), int(code), why or "") for pid, code, why in WORKER_EXIT_RE.findall(run.log_before_stop)]
        sig_exits = [(pid, code, why) for pid, code, why in exits if code > 128]
        fatal = FATAL_RE.search(log)
        asan = ASAN_RE.search(log)
        panic = PANIC_RE.search(log)   # the watchdog's own words: why a SIGABRT happened
        details = {"worker_exits": exits, "container_exit": run.exit_code,
                   "fatal": fatal.group(0) if fatal else "", "asan": asan.group(1) if asan else "",
                   "panic": panic.group(1) if panic else "",
                   "cores": [str(c) for c in run.cores]}
        evidence = []
        bt = ""
        for core in run.cores[:1]:
            bt = backtrace(run, core)
            bt_path = run.artifacts / "backtrace.txt"
            bt_path.write_text(bt)
            evidence.append(str(bt_path))
            details["signature"] = signature(bt.split("== all threads ==")[0])
            if self.options.get("keep_core", True):
                evidence.append(str(core))
            else:
                details["core_deleted"] = f"{core.name}, {core.stat().st_size} bytes (backtrace kept)"
                details["cores"] = [c for c in details["cores"] if c != str(core)]
                core.unlink()
        if asan:
            start = log.find("=================================================================")
            asan_path = run.artifacts / "asan.txt"
            asan_path.write_text(log[start if start >= 0 else 0:])
            evidence.append(str(asan_path))
        signals = [_signame(code) for _, code, _ in sig_exits]
        details["signals"] = signals
        wanted = self.options.get("signals")
        sig_ok = bool(signals) and (not wanted or any(s in wanted for s in signals))
        fired = sig_ok or bool(fatal) or bool(asan)
        other = ""
        if self.options.get("fatal") or self.options.get("stack") or self.options.get("log"):
            fired, other = self._signature(log, bt, sig_ok, details)
        if fired and self.options.get("require_core") and not run.cores:
            return Finding(self.name, False, "worker died but no core was written",
                           inconclusive="no core file: " + (why_lost(core_pattern()) or
                                                            "kernel.core_pattern is relative; check ulimit -c"),
                           details=details, evidence=evidence)
        parts = []
        if signals:
            parts.append("worker killed by " + ", ".join(signals))
        if fatal:
            parts.append(fatal.group(0))
        if panic:
            parts.append(panic.group(1))
        if asan:
            parts.append(f"ASAN {asan.group(1)}")
        if details.get("signature"):
            parts.append(f"at {details['signature']}")
        errors = [f"worker {pid} exited with code {code}" for pid, code, _ in exits if 0 < code <= 128]
        if run.gone_before_stop and not (signals or errors):
            errors.append(f"HAProxy was gone before the harness stopped it (container exit {run.exit_code})")
        parts += errors
        summary = "; ".join(parts) or "no worker died, no BUG_ON, no ASAN report"
        died = bool(signals or fatal or asan or panic or errors)
        if died and not fired:
            if not other:
                other = f"not an accepted death: signals {'/'.join(wanted)}" if wanted and signals else "not a crash"
            return Finding(self.name, False, summary, inconclusive=f"other failure ({other}): {summary}",
                           details=details, evidence=evidence)
        return Finding(self.name, fired, summary, details=details, evidence=evidence)

    def _signature(self, log: str, bt: str, sig_ok: bool, details: dict) -> tuple[bool, str]:
        """(fired, what is missing) for a named bug: accepted signal + FATAL text + frames + output line."""
        missing = [] if sig_ok else [f"signal {'/'.join(self.options.get('signals') or ['any'])}"]
        want_fatal = self.options.get("fatal")
        if want_fatal:
            lines = [m.group(0) for m in FATAL_RE.finditer(log)]
            if not any(re.search(want_fatal, line) for line in lines):
                missing.append(f"FATAL /{want_fatal}/")
        want_stack = list(self.options.get("stack") or [])
        if want_stack:
            funcs = {f for f, _ in frames(bt.split("== all threads ==")[0])}
            lacking = [f for f in want_stack if f not in funcs]
            details["stack_missing"] = lacking
            if not bt:
                missing.append("a core backtrace" + (f" ({lost})" if (lost := why_lost(core_pattern())) else ""))
            elif lacking:
                missing.append("frames " + ", ".join(lacking))
        want_log = self.options.get("log")
        if want_log and not any(re.search(want_log, line) for line in log.splitlines()):
            missing.append(f"output line /{want_log}/")
        details["signature_missing"] = missing
        return not missing, ("not this bug's signature: no " + "; no ".join(missing)) if missing else ""
