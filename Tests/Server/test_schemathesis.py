"""schemathesis against the served OpenAPI document: generated requests, valid and invalid, to
every route. No answer may be a 500, break the document's schemas, statuses, content types or
headers, or accept a request the document rules out. (Whether a schema-valid request succeeds
depends on the store — a vector of the collection's dimension, an existing UUID — so
positive_data_acceptance is not asked.)"""
import os
import subprocess
import sys

from conftest import Server, lineup

EXAMPLES = os.environ.get("LINEUP_SCHEMATHESIS_EXAMPLES", "40")


def test_schemathesis(tmp_path):
    store = str(tmp_path / "store")
    lineup("create", store, "staff")
    lineup("create", store, "0")
    with Server(store) as server:
        server.post("/v1/collections/staff/faceprints", {"identity": "a", "feature_vector": [0.5]})
        command = [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", f"{server.url}/v1/openapi.json",
                   "--url", server.url, "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                   "--max-examples", EXAMPLES, "--generation-deterministic", "--request-timeout", "30", "--no-color"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        assert server.process.poll() is None, "the server died"
        log = server.stderr()
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert " 500 " not in log
