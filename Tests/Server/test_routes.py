"""Every route of API.md section 3, its answers checked against the engine's exact scores, and
every error status a bad request gets — after which nothing has changed."""
import json
import re
import socket
import threading
import time
import urllib.parse

import numpy as np
import pytest

from conftest import Server, faces, lineup, npy_bytes, wait_for

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def enroll_all(server, vectors, identities, collection="staff"):
    body = {"faceprints": [{"identity": i, "feature_vector": v.tolist()} for v, i in zip(vectors, identities)]}
    status, _, answer = server.post(f"/v1/collections/{collection}/faceprints", body)
    assert status == 201, answer
    return answer["uuids"]


def exact_top(vectors, uuids, identities, probe, top, threshold):
    """The answer the engine must give, from numpy: cosine similarity of float32 vectors,
    ties by enrollment order."""
    gallery = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = gallery @ (probe / np.linalg.norm(probe))
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [(uuids[i], identities[i], float(scores[i])) for i in order[:top] if scores[i] >= threshold]


def test_health_needs_nothing(server):
    assert server.get("/v1/health")[0::2] == (200, {"status": "ok"})


def test_collections_create_list_metadata_delete(server):
    assert server.get("/v1/collections")[0::2] == (200, {"collections": ["staff"]})
    status, _, answer = server.post("/v1/collections", {"name": "visitors", "model": "M1", "compression": "int8"})
    assert (status, answer) == (201, {"name": "visitors"})
    # An existing name: 200, unchanged (its model stays M1).
    assert server.post("/v1/collections", {"name": "visitors", "model": "other"})[0::2] == (200, {"name": "visitors"})
    status, _, meta = server.get("/v1/collections/visitors")
    assert status == 200
    assert meta["collection_name"] == "visitors" and meta["model_name"] == "M1" and meta["num_faceprints"] == 0
    assert sorted(meta) == ["collection_name", "encrypted", "feature_vector_size_bytes", "model_name",
                            "model_options", "num_faceprints", "num_identities"]
    # The new collection is loaded: it takes enrollments at once, with its own model by default.
    status, _, answer = server.post("/v1/collections/visitors/faceprints", {"identity": "v", "feature_vector": [1, 2, 3]})
    assert status == 201 and UUID.match(answer["uuid"])
    assert server.get("/v1/collections")[2] == {"collections": ["staff", "visitors"]}
    assert server.delete("/v1/collections/visitors")[0::2] == (200, {"deleted": "visitors"})
    assert server.get("/v1/collections/visitors")[0] == 404
    assert server.get("/v1/collections")[2] == {"collections": ["staff"]}


def test_enroll_identify_remove(server):
    vectors, identities = faces(60, dimension=32)
    uuids = enroll_all(server, vectors[:50], identities[:50])
    assert len(uuids) == 50 and all(UUID.match(u) for u in uuids)
    status, _, answer = server.post("/v1/collections/staff/faceprints",
                                    {"identity": identities[50], "feature_vector": vectors[50].tolist(), "model_name": "TFV5_2"})
    assert status == 201
    uuids.append(answer["uuid"])
    status, _, idents = server.get("/v1/collections/staff/identities")
    assert status == 200 and idents["identities"] == dict(zip(uuids, identities[:51]))

    probes = vectors[51:]
    for probe in probes:
        status, _, answer = server.post("/v1/collections/staff/identify", {"feature_vector": probe.tolist(), "top": 5, "threshold": 0.2})
        assert status == 200
        [result] = answer["results"]
        expected = exact_top(vectors[:51], uuids, identities[:51], probe, 5, 0.2)
        got = [(c["uuid"], c["identity"], c["similarity"]) for c in result["candidates"]]
        assert [g[:2] for g in got] == [e[:2] for e in expected]
        assert np.allclose([g[2] for g in got], [e[2] for e in expected], atol=1e-5)
        assert all(0 <= c["match_probability"] <= 1 for c in result["candidates"])

    # A batch answers as the single probes do, in order, bit for bit.
    singles = [server.post("/v1/collections/staff/identify", {"feature_vector": p.tolist(), "top": 3, "threshold": -1})[2]["results"][0]
               for p in probes]
    status, _, batch = server.post("/v1/collections/staff/identify", {"feature_vectors": probes.tolist(), "top": 3, "threshold": -1})
    assert status == 200 and batch["results"] == singles
    # So does the .npy body, with its options in the query.
    status, _, npy = server.post("/v1/collections/staff/identify?top=3&threshold=-1", npy_bytes(probes),
                                 headers={"Content-Type": "application/x-npy"})
    assert status == 200 and npy["results"] == singles

    # Distinct identities: each person once, at their best Faceprint.
    status, _, answer = server.post("/v1/collections/staff/identify",
                                    {"feature_vector": probes[0].tolist(), "top": 10, "threshold": -1, "distinct_identities": True})
    names = [c["identity"] for c in answer["results"][0]["candidates"]]
    assert status == 200 and len(names) == len(set(names)) == min(10, len(set(identities[:51])))

    # Removal by UUID and by identity (percent-encoded, with a slash and a space in it).
    assert server.delete(f"/v1/collections/staff/faceprints/{uuids[0]}")[0::2] == (200, {"removed": 1})
    assert server.delete(f"/v1/collections/staff/faceprints/{uuids[0]}")[0] == 404
    odd = "dept/ana maría"
    server.post("/v1/collections/staff/faceprints", {"identity": odd, "feature_vector": vectors[0].tolist()})
    server.post("/v1/collections/staff/faceprints", {"identity": odd, "feature_vector": vectors[1].tolist()})
    path = "/v1/collections/staff/identities/" + urllib.parse.quote(odd, safe="")
    assert server.delete(path)[0::2] == (200, {"removed": 2})
    assert server.delete(path)[0] == 404
    status, _, meta = server.get("/v1/collections/staff")
    assert meta["num_faceprints"] == 50


def test_empty_batch_and_empty_collection(server):
    assert server.post("/v1/collections/staff/identify", {"feature_vector": [1, 2, 3]})[0::2] == (200, {"results": [{"candidates": []}]})
    assert server.post("/v1/collections/staff/identify", {"feature_vectors": []})[0::2] == (200, {"results": []})


def error_of(answer):
    assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message"}, answer
    return answer["error"]["code"]


def test_bad_requests_change_nothing(server):
    vectors, identities = faces(10, dimension=16)
    enroll_all(server, vectors, identities)
    before = server.get("/v1/collections/staff/identities")[2]
    cases = [
        ("POST", "/v1/collections/staff/faceprints", b"{not json", "invalidArgument"),
        ("POST", "/v1/collections/staff/faceprints", b"\xff\xfe", "invalidArgument"),
        ("POST", "/v1/collections/staff/faceprints", b"[1, 2]", "invalidArgument"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "x"}, "invalidArgument"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "x", "feature_vector": [1] * 15}, "enrollmentError"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "x", "feature_vector": [0] * 16}, "invalidArgument"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "", "feature_vector": [1] * 16}, "inputIsEmpty"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "x", "feature_vector": [1] * 16, "colour": 1}, "invalidArgument"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "x", "feature_vector": [1] * 16, "model_name": "other"}, "enrollmentError"),
        ("POST", "/v1/collections/staff/faceprints", {"identity": "x", "feature_vector": [1e300] * 16}, "invalidArgument"),
        # One bad Faceprint of a list: none of the list is enrolled.
        ("POST", "/v1/collections/staff/faceprints",
         {"faceprints": [{"identity": "ok", "feature_vector": [1] * 16}, {"identity": "bad", "feature_vector": [1] * 3}]}, "enrollmentError"),
        ("POST", "/v1/collections/staff/faceprints", {"faceprints": {}}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify", {"feature_vector": [1] * 15}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify", {"feature_vector": [1] * 16, "top": 0}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify", {"feature_vector": [1] * 16, "top": 1.5}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify", {"feature_vector": [1] * 16, "threshold": "high"}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify", {"feature_vector": [1] * 16, "feature_vectors": []}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify", {}, "invalidArgument"),
        ("POST", "/v1/collections/staff/identify?top=many", {"feature_vector": [1] * 16}, "invalidArgument"),
        ("POST", "/v1/collections", {"name": ""}, "invalidArgument"),
        ("POST", "/v1/collections", {"name": "n", "compression": "zip"}, "invalidArgument"),
        ("POST", "/v1/collections", {}, "invalidArgument"),
        ("DELETE", "/v1/collections/staff/faceprints/not-a-uuid", None, "noRecordFound"),
        ("DELETE", "/v1/collections/staff/identities/nobody", None, "noRecordFound"),
        ("DELETE", "/v1/collections/staff/identities/%ZZ", None, "invalidArgument"),
        ("GET", "/v1/collections/missing", None, "noCollectionFound"),
        ("POST", "/v1/collections/missing/faceprints", {"identity": "x", "feature_vector": [1] * 16}, "noCollectionFound"),
        ("POST", "/v1/collections/missing/identify", {"feature_vector": [1] * 16}, "noCollectionFound"),
        ("GET", "/v1/nothing-here", None, "notFound"),
    ]
    for method, path, body, code in cases:
        status, _, answer = server.request(method, path, body)
        expected = 404 if code in ("noRecordFound", "noCollectionFound", "notFound") else 400
        assert (status, error_of(answer)) == (expected, code), (method, path, body, answer)
    # A .npy body that is not one, and one of the wrong dimension.
    for body in (b"\x93NUMPY garbage", npy_bytes(np.ones((2, 15)))):
        status, _, answer = server.post("/v1/collections/staff/identify", body, headers={"Content-Type": "application/x-npy"})
        assert (status, error_of(answer)) == (400, "invalidArgument")
    assert server.get("/v1/collections/staff/identities")[2] == before
    assert server.get("/v1/collections")[2] == {"collections": ["staff"]}


def test_body_limit(store):
    with Server(store, "--max-body-bytes", "4096") as server:
        status, headers, answer = server.post("/v1/collections/staff/faceprints",
                                              {"identity": "x", "feature_vector": [0.5] * 2000})
        assert (status, error_of(answer)) == (413, "payloadTooLarge")
        # Without a Content-Length (chunked), the body is refused once it passes the limit.
        connection = server.connection()
        connection.putrequest("POST", "/v1/collections/staff/faceprints")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        chunk = b'{"identity": "x", "feature_vector": [' + b"0.5, " * 1500
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        assert response.status == 413 and json.loads(response.read())["error"]["code"] == "payloadTooLarge"
        connection.close()
        assert server.get("/v1/collections/staff")[2]["num_faceprints"] == 0
        # Under the limit, fine.
        assert server.post("/v1/collections/staff/faceprints", {"identity": "x", "feature_vector": [0.5] * 100})[0] == 201


def stalled_request(server, path="/v1/collections/staff/faceprints", declared=1000):
    """A connection that sent its head and part of a body, then stopped."""
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {declared}\r\n\r\n{{\"identity\": ".encode())
    return connection


def test_in_flight_bound_answers_503(store):
    with Server(store, "--max-in-flight", "1") as server:
        stalled = stalled_request(server)
        time.sleep(0.3)
        status, headers, answer = server.get("/v1/collections")
        assert (status, error_of(answer)) == (503, "overloaded")
        assert headers["retry-after"] == "1"
        # Health is never refused.
        assert server.get("/v1/health")[0] == 200
        stalled.close()
        assert wait_for(lambda: server.get("/v1/collections")[0] == 200, timeout=10)


def test_stalled_clients_time_out(store):
    with Server(store, "--idle-timeout", "0.5") as server:
        connection = stalled_request(server)
        connection.settimeout(10)
        start = time.monotonic()
        data = connection.recv(65536)   # closed by the server: b"" (or a reset)
        assert time.monotonic() - start < 8
        assert b"201" not in data
        connection.close()
        # A silent connection that never sent a full head is closed too.
        silent = socket.create_connection(("127.0.0.1", server.port))
        silent.sendall(b"GET /v1/health HTTP/1.1\r\nHo")
        silent.settimeout(10)
        assert silent.recv(65536) == b""
        silent.close()
        assert server.get("/v1/health")[0] == 200


def test_openapi_document_lists_every_route(server):
    status, headers, document = server.get("/v1/openapi.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/v1/health", "/metrics", "/v1/openapi.json", "/v1/collections", "/v1/collections/{name}",
        "/v1/collections/{name}/identities", "/v1/collections/{name}/faceprints",
        "/v1/collections/{name}/faceprints/{uuid}", "/v1/collections/{name}/identities/{identity}",
        "/v1/collections/{name}/identify"}


def test_metrics(server):
    vectors, identities = faces(7, dimension=8)
    enroll_all(server, vectors, identities)
    server.post("/v1/collections/staff/identify", {"feature_vector": vectors[0].tolist()})
    server.get("/v1/collections/missing")
    status, headers, text = server.get("/metrics", raw=True)
    text = text.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert 'lineup_faceprints{collection="staff"} 7' in text
    assert re.search(r'hb_requests\{http_route="/v1/collections/\{name\}/identify",http_request_method="POST",http_response_status_code="200"\} 1', text)
    assert 'http_response_status_code="404"' in text
    assert "http_server_request_duration_bucket" in text
    assert "lineup_identify_batch_probes_count" in text


def test_access_log_has_routes_not_data(store):
    with Server(store) as server:
        server.post("/v1/collections/staff/faceprints", {"identity": "secret-person", "feature_vector": [0.123456, 0.5, 0.25]})
        server.delete("/v1/collections/staff/identities/secret-person")
        log = server.stderr()
    assert "POST /v1/collections/{name}/faceprints 201" in log
    assert "DELETE /v1/collections/{name}/identities/{identity} 200" in log
    assert "secret-person" not in log and "0.123456" not in log


def test_concurrent_single_probes_coalesce_with_exact_answers(store):
    vectors, identities = faces(400, dimension=64, seed=3)
    probes, _ = faces(64, dimension=64, seed=4)
    with Server(store) as server:
        enroll_all(server, vectors, identities)
        expected = [server.post("/v1/collections/staff/identify", {"feature_vector": p.tolist(), "top": 4, "threshold": 0.1})[2]
                    for p in probes]
        got = [None] * len(probes)

        def client(worker):
            for index in range(worker, len(probes), 16):
                got[index] = server.post("/v1/collections/staff/identify",
                                         {"feature_vector": probes[index].tolist(), "top": 4, "threshold": 0.1})[2]
        threads = [threading.Thread(target=client, args=(w,)) for w in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert got == expected
        # A bad probe among good ones gets its own error; the others their answers.
        results = {}

        def mixed(index):
            vector = [1.0] * 63 if index % 4 == 0 else probes[index].tolist()
            results[index] = server.post("/v1/collections/staff/identify", {"feature_vector": vector, "top": 4, "threshold": 0.1})
        threads = [threading.Thread(target=mixed, args=(i,)) for i in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for index, (status, _, answer) in results.items():
            if index % 4 == 0:
                assert status == 400
            else:
                assert (status, answer) == (200, expected[index])


def test_unknown_option_and_bad_listen():
    assert lineup("serve", "/nonexistent/store", "--listen", "nowhere", check=False).returncode != 0
    result = lineup("serve", "/nonexistent/dir/store", check=False)
    assert result.returncode != 0 and result.stderr.startswith("error:")


def test_second_server_on_a_locked_store_reads_and_answers_409_to_writes(server, store):
    """Without --shared, the first server holds the store's lock; a second one serves a
    read-only view, and its writes get 409 storeLocked."""
    assert server.post("/v1/collections/staff/faceprints", {"identity": "a", "feature_vector": [1, 2, 3]})[0] == 201
    with Server(store) as second:
        assert second.get("/v1/collections/staff")[2]["num_faceprints"] == 1
        assert second.post("/v1/collections/staff/identify", {"feature_vector": [1, 2, 3]})[2]["results"][0]["candidates"][0]["identity"] == "a"
        status, _, answer = second.post("/v1/collections/staff/faceprints", {"identity": "b", "feature_vector": [1, 2, 3]})
        assert (status, error_of(answer)) == (409, "storeLocked")
    assert server.get("/v1/collections/staff")[2]["num_faceprints"] == 1


def test_concurrent_single_enrollments_coalesce_and_keep_their_own_errors(server):
    vectors, identities = faces(96, dimension=24, seed=8)
    server.post("/v1/collections/staff/faceprints", {"identity": "first", "feature_vector": vectors[0].tolist()})
    answers = {}

    def enroll(index):
        vector = [1.0] * 23 if index % 5 == 0 else vectors[index].tolist()
        answers[index] = server.post("/v1/collections/staff/faceprints", {"identity": identities[index], "feature_vector": vector})
    threads = [threading.Thread(target=enroll, args=(i,)) for i in range(1, 96)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    present = server.get("/v1/collections/staff/identities")[2]["identities"]
    for index, (status, _, answer) in answers.items():
        if index % 5 == 0:
            assert (status, error_of(answer)) == (400, "enrollmentError")
        else:
            assert status == 201 and present[answer["uuid"]] == identities[index]
    assert len(present) == 1 + sum(1 for i in range(1, 96) if i % 5 != 0)
