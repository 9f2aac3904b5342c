"""Child processes of the local stack: free ports, spawning, readiness, and stopping for good.

Every server of the stack (tansu, Valkey, moto, the emulators) is a child process started in its
own process group, so that `stop` can take down whatever it forked too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class ReadinessTimeout(RuntimeError):
    """A server did not become ready in time; the message names it and its log file."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(
    argv: Sequence[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session (its own process group), stdout and stderr to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def stop_group(
    pid: int, timeout: float = 10.0, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGKILL)
) -> None:
    """SIGTERM the process group led by `pid`, then SIGKILL what is left after `timeout`
    (`signals=(signal.SIGKILL,)`: a crash, not a stop)."""
    for sig in signals:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """`stop_group` for a child we started: its exit code (negative: killed by that signal),
    read through `Popen.wait`. (`stop_group` reaps with `os.waitpid` behind Popen's back, after
    which Popen can only report 0, whatever the process exited with.)"""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our child (a zombie otherwise looks alive)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_tcp(host: str, port: int, timeout: float, name: str, log_path: Path) -> None:
    """Block until `host:port` accepts a TCP connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ReadinessTimeout(
        f"{name} did not listen on {host}:{port} within {timeout}s; see {log_path}"
    )


def wait_http(url: str, timeout: float, name: str, log_path: Path) -> None:
    """Block until GET `url` answers with a status below 500."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise ReadinessTimeout(f"{name} did not answer {url} within {timeout}s; see {log_path}")


def start_http_server(
    argv: Sequence[str], log_path: Path, ready_url: str, name: str, timeout: float = 30.0
) -> subprocess.Popen[bytes]:
    """Spawn an HTTP server and wait until `ready_url` answers; stop it if it never does."""
    process = spawn(argv, log_path)
    try:
        wait_http(ready_url, timeout, name, log_path)
    except BaseException:
        stop_group(process.pid)
        raise
    return process
