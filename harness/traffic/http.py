"""HTTP inside the namespace: a small backend server and requests-based clients."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from ..netns import NetNS
from .tcp import LOOPBACK


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b"hrt backend\n"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


class HttpBackend:
    """A threading HTTP/1.1 server answering 200 to GET, listening in the namespace."""

    def __init__(self, ns: NetNS, port: int, host: str = LOOPBACK):
        self.server = ns.run(ThreadingHTTPServer, (host, port), _Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def get(ns: NetNS, port: int, path: str = "/", timeout: float = 5.0, **kwargs) -> requests.Response:
    """A GET through HAProxy's frontend; the connection is made inside the namespace."""
    def call():
        with requests.Session() as s:
            s.trust_env = False  # never a proxy from the environment: traffic stays on this loopback
            return s.get(f"http://{LOOPBACK}:{port}{path}", timeout=timeout, **kwargs)
    return ns.run(call)
