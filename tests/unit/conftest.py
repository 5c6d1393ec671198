"""Shared fixtures for the unit tests: a local HTTP server, tiny git repositories, an isolated cache."""
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "hrt tests", "GIT_AUTHOR_EMAIL": "hrt@example.invalid",
    "GIT_COMMITTER_NAME": "hrt tests", "GIT_COMMITTER_EMAIL": "hrt@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test touches the user's cache, git mirrors, apt mirror or an HTTP proxy."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("HRT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HRT_GIT_MIRRORS", raising=False)
    monkeypatch.delenv("HRT_DEBIAN_MIRROR", raising=False)
    monkeypatch.delenv("HRT_UBUNTU_MIRROR", raising=False)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}
    r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return r.stdout.strip()


class Repo:
    """A tiny git repository with HAProxy's VERSION / SUBVERS (export-subst) layout."""

    def __init__(self, path: Path, version: str = "3.1-dev10"):
        self.path = path
        path.mkdir(parents=True)
        git(path, "init", "-q", "-b", "master")
        (path / "VERSION").write_text(version + "\n")
        (path / "SUBVERS").write_text("-$Format:%h$\n")
        (path / ".gitattributes").write_text("SUBVERS export-subst\n")

    def commit(self, message: str, **files: str) -> str:
        for name, text in files.items():
            (self.path / name).write_text(text)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.path, "rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def tag(self, name: str, commit: str = "HEAD") -> None:
        git(self.path, "tag", name, commit)


@pytest.fixture
def make_repo(tmp_path):
    def make(name: str = "repo", version: str = "3.1-dev10") -> Repo:
        return Repo(tmp_path / name, version)
    return make


class LocalHTTP:
    """A threaded HTTP server on 127.0.0.1 serving `files` (path -> bytes); 404 elsewhere."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, body: bool):
                outer.requests.append((self.command, self.path))
                data = outer.files.get(self.path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self):
                self._serve(True)

            def do_HEAD(self):
                self._serve(False)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_server():
    srv = LocalHTTP()
    try:
        yield srv
    finally:
        srv.close()
