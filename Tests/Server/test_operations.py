"""What operators rely on: tokens, TLS, encrypted stores, kill -9 during enrollments, SIGTERM
draining what is in flight, and several servers on one shared store."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import Server, faces, lineup, wait_for

READ_WRITE = "rw-token-0123456789abcdef"
READ_ONLY = "ro-token-0123456789abcdef"


def test_tokens(store, tmp_path):
    (tmp_path / "rw").write_text(READ_WRITE + "\n")
    (tmp_path / "ro").write_text(READ_ONLY + "\n")
    with Server(store, "--token-file", str(tmp_path / "rw"), "--read-only-token-file", str(tmp_path / "ro")) as server:
        assert server.get("/v1/health")[0] == 200
        for path in ("/v1/collections", "/metrics", "/v1/openapi.json", "/v1/collections/staff"):
            status, headers, answer = server.get(path)
            assert (status, answer["error"]["code"]) == (401, "unauthorized"), path
            assert headers["www-authenticate"] == "Bearer"
        assert server.get("/v1/collections", token="wrong-token-0123456789abcdef")[0] == 401
        assert server.get("/v1/collections", headers={"Authorization": "Basic " + READ_WRITE})[0] == 401
        assert server.get("/v1/collections", token=READ_WRITE[:-1])[0] == 401
        assert server.get("/v1/collections", token=READ_WRITE + "x")[0] == 401
        body = {"identity": "a", "feature_vector": [1, 2, 3]}
        assert server.post("/v1/collections/staff/faceprints", body, token=READ_WRITE)[0] == 201
        # Read-only: reads and identifies, never writes.
        assert server.get("/v1/collections/staff", token=READ_ONLY)[2]["num_faceprints"] == 1
        assert server.post("/v1/collections/staff/identify", {"feature_vector": [1, 2, 3]}, token=READ_ONLY)[0] == 200
        for method, path, payload in (("POST", "/v1/collections/staff/faceprints", body),
                                      ("POST", "/v1/collections", {"name": "x"}),
                                      ("DELETE", "/v1/collections/staff/identities/a", None),
                                      ("DELETE", "/v1/collections/staff", None)):
            status, _, answer = server.request(method, path, payload, token=READ_ONLY)
            assert (status, answer["error"]["code"]) == (403, "forbidden"), (method, path)
        assert server.get("/v1/collections/staff", token=READ_WRITE)[2]["num_faceprints"] == 1
        log = server.stderr()
    assert READ_WRITE not in log and READ_ONLY not in log


def test_bad_token_files(store, tmp_path):
    (tmp_path / "empty").write_text("\n\n")
    (tmp_path / "short").write_text("abc\n")
    for name in ("empty", "short", "missing"):
        result = lineup("serve", store, "--token-file", str(tmp_path / name), check=False)
        assert result.returncode != 0 and "invalidArgument" in result.stderr, result.stderr


def test_tls(store, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    with Server(store, "--tls-cert", str(cert), "--tls-key", str(key), tls_ca=str(cert)) as server:
        assert server.url.startswith("https://")
        assert server.get("/v1/health")[0::2] == (200, {"status": "ok"})
        assert server.post("/v1/collections/staff/faceprints", {"identity": "a", "feature_vector": [1, 2]})[0] == 201
        # Plain HTTP to the TLS port gets no answer of ours.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
            plain.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                assert b'"ok"' not in plain.recv(4096)
            except ConnectionResetError:
                pass
    result = lineup("serve", store, "--tls-cert", str(cert), check=False)
    assert result.returncode != 0 and "go together" in result.stderr
    result = lineup("serve", store, "--tls-cert", str(tmp_path / "nothing.pem"), "--tls-key", str(key), check=False)
    assert result.returncode != 0 and "invalidArgument" in result.stderr


def test_encrypted_store(tmp_path):
    store = str(tmp_path / "secret")
    (tmp_path / "pass").write_text("correct horse battery staple\n")
    lineup("create", store, "staff", "--encrypt", "--passphrase-file", str(tmp_path / "pass"))
    with Server(store, "--passphrase-file", str(tmp_path / "pass")) as server:
        assert server.post("/v1/collections/staff/faceprints", {"identity": "a", "feature_vector": [1, 2]})[0] == 201
        assert server.get("/v1/collections/staff")[2]["encrypted"] is True
    result = lineup("serve", store, check=False)
    assert result.returncode != 0 and "wrongEncryptionKey" in result.stderr
    with Server(store, env={"LINEUP_PASSPHRASE": "correct horse battery staple"}) as server:
        assert server.get("/v1/collections/staff")[2]["num_faceprints"] == 1


def test_kill_9_loses_no_acknowledged_enrollment(store):
    vectors, identities = faces(4000, dimension=32, seed=5)
    acknowledged = []
    lock = threading.Lock()
    server = Server(store)
    stop = threading.Event()

    def enroller(worker):
        index = worker
        while not stop.is_set() and index < len(vectors):
            try:
                if index % 3 == 0:
                    batch = [{"identity": identities[i], "feature_vector": vectors[i].tolist()} for i in (index, )]
                    status, _, answer = server.post("/v1/collections/staff/faceprints", {"faceprints": batch})
                    uuids = answer.get("uuids", []) if status == 201 else []
                else:
                    status, _, answer = server.post("/v1/collections/staff/faceprints",
                                                    {"identity": identities[index], "feature_vector": vectors[index].tolist()})
                    uuids = [answer["uuid"]] if status == 201 else []
            except (OSError, ValueError, AttributeError):
                return   # the server died under us: this request was never acknowledged
            with lock:
                acknowledged.extend((u, identities[index]) for u in uuids)
            index += 8

    threads = [threading.Thread(target=enroller, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    assert wait_for(lambda: len(acknowledged) >= 150, timeout=60)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=30)
    stop.set()
    for thread in threads:
        thread.join()
    os.unlink(server.log.name)
    with Server(store) as restarted:
        present = restarted.get("/v1/collections/staff/identities")[2]["identities"]
    missing = [(u, i) for u, i in acknowledged if present.get(u) != i]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged enrollments lost"
    assert len(present) >= len(acknowledged)


def test_sigterm_finishes_in_flight_then_exits_0(store):
    server = Server(store)
    body = b'{"identity": "late", "feature_vector": [1, 2, 3]}'
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    connection.sendall(b"POST /v1/collections/staff/faceprints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:10]))
    time.sleep(0.3)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.process.poll() is None, "exited with a request in flight"
    # New connections are no longer accepted.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).sendall(b"GET /v1/health HTTP/1.1\r\n\r\n")
        raise OSError("accepted")
    connection.sendall(body[10:])
    answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201"), answer
    connection.close()
    assert server.process.wait(timeout=30) == 0
    os.unlink(server.log.name)
    # Closed cleanly: the store verifies, and the enrollment is there.
    assert lineup("verify", store, check=False).returncode == 0
    assert "late" in lineup("identities", store, "staff", "--json").stdout


def test_two_servers_share_one_store(tmp_path):
    store = str(tmp_path / "shared")
    lineup("create", store, "staff", "--shared")
    options = ("--shared", "--check-interval", "0.05")
    with Server(store, *options) as first, Server(store, *options) as second:
        vectors, identities = faces(20, dimension=16, seed=9)
        status, _, answer = first.post("/v1/collections/staff/faceprints",
                                       {"faceprints": [{"identity": i, "feature_vector": v.tolist()} for v, i in zip(vectors, identities)]})
        assert status == 201
        uuids = answer["uuids"]
        probe = {"feature_vector": vectors[7].tolist(), "top": 1, "threshold": 0.9}

        def second_sees():
            status, _, answer = second.post("/v1/collections/staff/identify", probe)
            return status == 200 and answer["results"][0]["candidates"] and answer["results"][0]["candidates"][0]["uuid"] == uuids[7]
        assert wait_for(second_sees, timeout=20)
        # Writes go both ways: the second removes, the first stops finding it.
        assert second.delete(f"/v1/collections/staff/faceprints/{uuids[7]}")[0] == 200
        assert wait_for(lambda: first.post("/v1/collections/staff/identify", probe)[2]["results"][0]["candidates"] == [], timeout=20)
        # A collection the first creates, the second serves.
        assert first.post("/v1/collections", {"name": "visitors"})[0] == 201
        assert first.post("/v1/collections/visitors/faceprints", {"identity": "v", "feature_vector": [1, 2, 3]})[0] == 201
        assert wait_for(lambda: second.post("/v1/collections/visitors/identify", {"feature_vector": [1, 2, 3]})[0] == 200
                        and second.get("/v1/collections/visitors")[2]["num_faceprints"] == 1, timeout=20)
        status, _, answer = second.post("/v1/collections/visitors/identify", {"feature_vector": [1, 2, 3]})
        assert answer["results"][0]["candidates"][0]["identity"] == "v"
