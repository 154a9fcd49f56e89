"""The harness of the server suite: starts `lineup serve` processes on loopback, talks HTTP to
them with the standard library, and stops them afterwards.

The binary is $LINEUP_BINARY, else .build/debug/lineup of the checkout.
"""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LINEUP = os.environ.get("LINEUP_BINARY", os.path.join(ROOT, ".build", "debug", "lineup"))


def lineup(*args, check=True, **kwargs):
    """Runs the CLI; returns the completed process."""
    result = subprocess.run([LINEUP, *args], capture_output=True, text=True, timeout=120, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"lineup {' '.join(args)} failed: {result.stderr}")
    return result


class Server:
    """A `lineup serve` process. Use as a context manager, or call stop()."""

    def __init__(self, store, *args, env=None, tls_ca=None, token=None):
        self.log = tempfile.NamedTemporaryFile(prefix="lineup-serve-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [LINEUP, "serve", store, "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env={**os.environ, **(env or {})})
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            self.process.wait(timeout=30)
            raise AssertionError(f"lineup serve did not start (exit {self.process.returncode}): {self.stderr()}")
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.tls_ca = tls_ca
        self.token = token

    def connection(self, timeout=60):
        if self.tls_ca:
            context = ssl.create_default_context(cafile=self.tls_ca)
            return http.client.HTTPSConnection("localhost", self.port, timeout=timeout, context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, token=None, raw=False):
        """(status, headers, body): the body parsed as JSON unless raw, or unless it is not JSON."""
        headers = dict(headers or {})
        token = token if token is not None else self.token
        if token:
            headers.setdefault("Authorization", f"Bearer {token}")
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        if raw:
            return response.status, answer_headers, data
        try:
            return response.status, answer_headers, json.loads(data)
        except ValueError:
            return response.status, answer_headers, data

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def stderr(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def terminate(self, timeout=60):
        """SIGTERM, then the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stop(self):
        status = self.terminate()
        os.unlink(self.log.name)
        return status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.terminate()
        if os.path.exists(self.log.name):
            os.unlink(self.log.name)


def faces(count, dimension=64, identities=None, seed=0):
    """Face-like vectors: identity centres plus noise, float32, with identity names."""
    rng = np.random.default_rng(seed)
    identities = identities or max(1, count // 3)
    centres = rng.standard_normal((identities, dimension)).astype(np.float32)
    labels = rng.integers(0, identities, count)
    vectors = centres[labels] + 0.5 * rng.standard_normal((count, dimension)).astype(np.float32)
    return vectors.astype(np.float32), [f"person-{i}" for i in labels]


def npy_bytes(matrix):
    import io
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(matrix, dtype=np.float32))
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path):
    path = str(tmp_path / "store")
    lineup("create", path, "staff")
    return path


@pytest.fixture
def server(store):
    with Server(store) as running:
        yield running


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
