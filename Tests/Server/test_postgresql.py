"""`lineup serve --postgresql`: two server processes on one PostgreSQL database (the seed's
multi-machine mode), each serving what the other enrolls. Runs under scripts/with-postgres
(make test-postgresql), which exports LINEUP_TEST_POSTGRES; skipped otherwise."""
import os
import uuid

import pytest

from conftest import Server, faces, wait_for

CONNINFO = os.environ.get("LINEUP_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not CONNINFO, reason="needs LINEUP_TEST_POSTGRES (make test-postgresql)")


def test_two_servers_on_one_database():
    options = ("--postgresql", "--check-interval", "0.05")
    name = "serve-" + uuid.uuid4().hex[:8]
    with Server(CONNINFO, *options) as first, Server(CONNINFO, *options) as second:
        assert first.post("/v1/collections", {"name": name, "compression": "fp16"})[0] == 201
        vectors, identities = faces(30, dimension=32, seed=11)
        status, _, answer = first.post(f"/v1/collections/{name}/faceprints",
                                       {"faceprints": [{"identity": i, "feature_vector": v.tolist()} for v, i in zip(vectors, identities)]})
        assert status == 201
        uuids = answer["uuids"]
        probe = {"feature_vector": vectors[3].tolist(), "threshold": 0.9}

        def second_finds(expected):
            status, _, answer = second.post(f"/v1/collections/{name}/identify", probe)
            if status != 200:
                return False
            found = [c["uuid"] for c in answer["results"][0]["candidates"]]
            return found == expected
        assert wait_for(lambda: second_finds([uuids[3]]), timeout=30)
        assert second.get(f"/v1/collections/{name}")[2]["num_faceprints"] == 30
        assert second.delete(f"/v1/collections/{name}/faceprints/{uuids[3]}")[0] == 200
        assert wait_for(lambda: first.post(f"/v1/collections/{name}/identify", probe)[2]["results"][0]["candidates"] == [], timeout=30)
        assert first.delete(f"/v1/collections/{name}")[0] == 200
