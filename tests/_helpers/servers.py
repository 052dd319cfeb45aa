"""HTTP servers on 127.0.0.1 for the download tests: a file server with Range support and failure modes, and a
minimal Hugging Face Hub answering huggingface_hub's ``/{repo}/resolve/{revision}/{file}`` requests."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_HEAD(self) -> None:
        self.server.owner.respond(self, head=True)

    def do_GET(self) -> None:
        self.server.owner.respond(self, head=False)


class LocalServer:
    """Serves ``files`` (path -> bytes). Failure modes: ``cut_first`` (the first GET of a path stops after that
    many bytes), ``fail_after_cut`` (later GETs answer 503), ``html`` (every GET answers a web page),
    ``chunk_delay`` (seconds between 64 KiB chunks, so concurrent clients overlap), ``honor_range`` (False: Range
    requests get the whole file with 200, as simple servers do). ``log`` records
    (method, path, range header, bytes sent, completed)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_first: int | None = None
        self.fail_after_cut = False
        self.html = False
        self.chunk_delay = 0.0
        self.honor_range = True
        self.log: list[tuple[str, str, str | None, int, bool]] = []
        self._cut_done: set[str] = set()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def complete_gets(self, path: str) -> int:
        return sum(1 for m, p, _, _, done in self.log if m == "GET" and p == path and done)

    # ------------------------------------------------------------------ responses
    def lookup(self, path: str) -> tuple[bytes | None, dict[str, str]]:
        return self.files.get(path), {}

    def respond(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = h.path.split("?")[0]
        data, extra = self.lookup(path)
        if data is None:
            self._send(h, 404, b"not found", {"Content-Type": "text/plain", **extra}, head, path)
            return
        if self.html and not head:
            page = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"
            self._send(h, 200, page, {"Content-Type": "text/html; charset=utf-8"}, head, path)
            return
        with self._lock:
            cut = self.cut_first is not None and not head and path not in self._cut_done
            if cut:
                self._cut_done.add(path)
            refused = not cut and not head and self.fail_after_cut and path in self._cut_done
        if refused:
            self._send(h, 503, b"busy", {"Content-Type": "text/plain"}, head, path)
            return
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        headers = {
            "Content-Type": "application/octet-stream",
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            **extra,
        }
        status, body = 200, data
        rng = h.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if_range = h.headers.get("If-Range")
        if m and self.honor_range and (if_range is None or if_range in (etag, headers["Last-Modified"])):
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(data) - 1
            status, body = 206, data[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        self._send(h, status, body, headers, head, path, limit=self.cut_first if cut else None, rng=rng)

    def _send(self, h, status, body, headers, head, path, limit=None, rng=None) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        if limit is not None:
            h.send_header("Connection", "close")
        h.end_headers()
        sent = 0
        if not head:
            payload = body if limit is None else body[:limit]
            try:
                for i in range(0, len(payload), 65536):
                    h.wfile.write(payload[i : i + 65536])
                    sent += len(payload[i : i + 65536])
                    if self.chunk_delay:
                        time.sleep(self.chunk_delay)
                h.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            if limit is not None:
                h.close_connection = True
                try:
                    h.connection.shutdown(2)
                except OSError:
                    pass
        with self._lock:
            self.log.append((h.command, path, rng, sent, not head and sent == len(body) and status in (200, 206)))


class HubServer(LocalServer):
    """A Hub: ``repos[repo_id] = {filename: bytes}``, every revision answering with commit ``commit``."""

    def __init__(self, commit: str) -> None:
        super().__init__()
        self.commit = commit
        self.repos: dict[str, dict[str, bytes]] = {}

    def lookup(self, path: str) -> tuple[bytes | None, dict[str, str]]:
        m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if not m or m.group(1) not in self.repos:
            return None, {"X-Error-Code": "RepoNotFound"}
        data = self.repos[m.group(1)].get(m.group(3))
        if data is None:
            return None, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": self.commit}
        return data, {"X-Repo-Commit": self.commit}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
