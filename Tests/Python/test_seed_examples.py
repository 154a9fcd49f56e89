"""The seed SDK's documented call shapes, written as its users write them with `import tfsdk`,
ported by changing only that import line."""
import numpy as np

import lineup as tfsdk


def test_seed_call_shapes(tmp_path):
    options = tfsdk.ConfigurationOptions()
    options.dbms = tfsdk.DATABASEMANAGEMENTSYSTEM.SQLITE
    options.fr_vector_compression = True
    sdk = tfsdk.SDK(options)
    res = sdk.create_database_connection(str(tmp_path / "my_database.db"))
    assert res == tfsdk.ERRORCODE.NO_ERROR
    res = sdk.create_load_collection("my_collection")
    assert res == tfsdk.ERRORCODE.NO_ERROR

    rng = np.random.default_rng(1)
    alice, bob = rng.standard_normal(128), rng.standard_normal(128)
    res, uuid = sdk.enroll_faceprint(tfsdk.Faceprint(list(alice)), "alice")
    assert res == tfsdk.ERRORCODE.NO_ERROR
    res, _ = sdk.enroll_faceprint(tfsdk.Faceprint(list(bob)), "bob", "my_collection")

    probe = tfsdk.Faceprint(list(alice + 0.05 * rng.standard_normal(128)))
    res, found, candidate = sdk.identify_top_candidate(probe, threshold=0.4)
    assert res == tfsdk.ERRORCODE.NO_ERROR and found
    assert candidate.identity == "alice" and candidate.UUID == uuid
    print(candidate.similarity_measure, candidate.match_probability, candidate.to_dict())

    res, found, candidates = sdk.identify_top_candidates(probe, 5, threshold=0.4)
    assert found and candidates[0].identity == "alice"
    res, founds, candidates = sdk.batch_identify_top_candidate([probe, tfsdk.Faceprint(list(bob))], 0.4, "my_collection")
    assert founds == [True, True] and [c.identity for c in candidates] == ["alice", "bob"]

    res, names = sdk.get_collection_names()
    assert names == ["my_collection"]
    res, metadata = sdk.get_collection_metadata("my_collection")
    assert (metadata.collection_name, metadata.num_faceprints, metadata.num_identities) == ("my_collection", 2, 2)
    assert metadata.feature_vector_size_bytes == 256   # fp16 with fr_vector_compression
    res, identities = sdk.get_collection_identities("my_collection")
    assert '"alice"' in identities

    res = sdk.remove_by_UUID(uuid)
    assert res == tfsdk.ERRORCODE.NO_ERROR
    res, num_removed = sdk.remove_by_identity("bob")
    assert (res, num_removed) == (tfsdk.ERRORCODE.NO_ERROR, 1)
    res, found, candidate = sdk.identify_top_candidate(probe)
    assert res == tfsdk.ERRORCODE.NO_ERROR and not found
    res = sdk.delete_collection("my_collection")
    assert res == tfsdk.ERRORCODE.NO_ERROR
