"""lineup from Python: every method, the ERRORCODE of each bad input, threads, other
processes, memory over 100,000 calls, numpy bulk paths."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import lineup
from lineup import ERRORCODE, Faceprint

OK = ERRORCODE.NO_ERROR
HERE = os.path.dirname(os.path.abspath(__file__))


def faces(count, dimension=32, seed=0):
    rng = np.random.default_rng(seed)
    people = max(1, count // 4)
    centres = rng.standard_normal((people, dimension)).astype(np.float32)
    owners = np.arange(count) % people
    vectors = (centres[owners] + 0.3 * rng.standard_normal((count, dimension))).astype(np.float32)
    return vectors, [f"person-{i}" for i in owners]


def connect(path=None, **settings):
    options = lineup.ConfigurationOptions()
    options.dbms = lineup.DATABASEMANAGEMENTSYSTEM.NONE if path is None else lineup.DATABASEMANAGEMENTSYSTEM.SQLITE
    for key, value in settings.items():
        setattr(options, key, value)
    sdk = lineup.SDK(options)
    assert sdk.create_database_connection("" if path is None else path) == OK, lineup.last_error_message()
    return sdk


@pytest.fixture
def gallery(tmp_path):
    sdk = connect(str(tmp_path / "store"))
    assert sdk.create_load_collection("staff") == OK
    vectors, identities = faces(60)
    status, uuids = sdk.enroll_faceprints(vectors, identities)
    assert status == OK and len(uuids) == 60
    return sdk, vectors, identities, uuids


def exact(vectors, probe, top):
    gallery = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = gallery @ (probe / np.linalg.norm(probe))
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:top]
    return order, scores


def test_every_method(gallery, tmp_path):
    sdk, vectors, identities, uuids = gallery
    assert lineup.version().startswith("1.")
    status, uuid = sdk.enroll_faceprint(Faceprint(vectors[0].tolist()), "solo")
    assert status == OK and len(uuid) == 36
    status, found, candidate = sdk.identify_top_candidate(Faceprint(vectors[5]))
    assert status == OK and found and candidate.UUID == uuids[5] and candidate.identity == identities[5]
    assert abs(candidate.similarity_measure - 1) < 1e-5 and 0 <= candidate.match_probability <= 1
    assert set(candidate.to_dict()) == {"UUID", "identity", "similarity_measure", "match_probability"}
    status, found, candidates = sdk.identify_top_candidates(Faceprint(vectors[7]), 5, threshold=-1)
    order, scores = exact(np.vstack([vectors, vectors[:1]]), vectors[7], 5)
    all_uuids = uuids + [uuid]
    assert status == OK and [c.UUID for c in candidates] == [all_uuids[i] for i in order]
    assert np.allclose([c.similarity_measure for c in candidates], [scores[i] for i in order], atol=1e-5)
    status, found, people = sdk.identify_top_identities(Faceprint(vectors[7]), 6, threshold=-1)
    assert status == OK and len({c.identity for c in people}) == len(people) == 6
    status, founds, best = sdk.batch_identify_top_candidate([Faceprint(v) for v in vectors[:4]], 0.4, "staff")
    assert status == OK and founds == [True] * 4 and [c.UUID for c in best] == uuids[:4]
    status, results = sdk.identify(vectors[:10], top=3, threshold=-1)
    assert status == OK and len(results) == 10
    for row, result in enumerate(results):
        assert result == sdk.identify_top_candidates(Faceprint(vectors[row]), 3, threshold=-1)[2]
    status, results = sdk.identify(vectors[:3], top=4, threshold=-1, distinct_identities=True)
    assert status == OK and all(len({c.identity for c in r}) == len(r) for r in results)
    assert sdk.identify(np.zeros((0, 32), np.float32))[0:2] == (OK, [])

    status, names = sdk.get_collection_names()
    assert (status, names) == (OK, ["staff"])
    status, meta = sdk.get_collection_metadata("staff")
    assert status == OK and meta.collection_name == "staff" and meta.num_faceprints == 61
    assert meta.num_identities == len(set(identities)) + 1 and meta.feature_vector_size_bytes == 128
    assert meta.model_name == "TFV5_2" and meta.encrypted is False and "none" in meta.model_options
    status, text = sdk.get_collection_identities("staff")
    assert status == OK and json.loads(text) == dict(zip(all_uuids, identities + ["solo"]))

    assert sdk.remove_by_UUID(uuid) == OK
    assert sdk.remove_by_UUID(uuid) == ERRORCODE.NO_RECORD_FOUND
    status, removed = sdk.remove_by_identity("person-0")
    assert status == OK and removed == identities.count("person-0")
    assert sdk.create_collection("other") == OK and sdk.load_collection("other") == OK
    assert sdk.load_collections(["staff", "other"]) == OK
    assert sdk.delete_collection("other") == OK
    assert sdk.compact() == OK and sdk.compact("staff") == OK
    assert sdk.backup(str(tmp_path / "copy")) == OK
    assert sdk.rekey("new key") == ERRORCODE.INVALID_ARGUMENT   # not an encrypted store


def test_error_codes(gallery, tmp_path):
    sdk, vectors, identities, uuids = gallery
    before = sdk.get_collection_identities("staff")[1]
    cases = [
        (lambda: sdk.enroll_faceprint(Faceprint([float("nan")] * 32), "x"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([]), "x"), ERRORCODE.INPUT_IS_EMPTY),
        (lambda: sdk.enroll_faceprint(Faceprint([0.0] * 32), "x"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 31), "x"), ERRORCODE.ENROLLMENT_ERROR),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 32, model_name="other"), "x"), ERRORCODE.ENROLLMENT_ERROR),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 32), ""), ERRORCODE.INPUT_IS_EMPTY),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 32), "a\x00b"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 32), "\ud800"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 32), 17), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint([1.0] * 32, "x"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([[1.0] * 32]), "x"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint(["a"] * 32), "x"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 5000), "x"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprint(Faceprint([1.0] * 32), "x", "missing"), ERRORCODE.NO_COLLECTION_FOUND),
        (lambda: sdk.enroll_faceprints(vectors[:2], ["a"]), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprints(vectors[:2], "ab"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprints(vectors[0], ["a"]), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprints(np.vstack([vectors[:1], np.zeros((1, 32))]), ["a", "b"]), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.enroll_faceprints(np.zeros((0, 32)), []), ERRORCODE.INPUT_IS_EMPTY),
        (lambda: sdk.identify_top_candidate(Faceprint([1.0] * 31)), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.identify_top_candidate(Faceprint([1.0] * 32), threshold=float("nan")), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.identify_top_candidate(Faceprint([1.0] * 32), threshold="high"), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.identify_top_candidates(Faceprint([1.0] * 32), 0), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.identify_top_candidates(Faceprint([1.0] * 32), 2.5), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.identify(vectors[:2, :31]), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.identify(vectors[0]), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.batch_identify_top_candidate([Faceprint([1.0] * 32), Faceprint([1.0] * 31)]), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.remove_by_UUID("not-a-uuid"), ERRORCODE.NO_RECORD_FOUND),
        (lambda: sdk.remove_by_UUID(""), ERRORCODE.INPUT_IS_EMPTY),
        (lambda: sdk.remove_by_identity("nobody"), ERRORCODE.NO_RECORD_FOUND),
        (lambda: sdk.get_collection_metadata("missing"), ERRORCODE.NO_COLLECTION_FOUND),
        (lambda: sdk.load_collection("missing"), ERRORCODE.NO_COLLECTION_FOUND),
        (lambda: sdk.load_collections([]), ERRORCODE.INPUT_IS_EMPTY),
        (lambda: sdk.create_collection(""), ERRORCODE.INVALID_ARGUMENT),
        (lambda: sdk.delete_collection("missing"), ERRORCODE.NO_COLLECTION_FOUND),
        (lambda: sdk.backup(str(tmp_path)), ERRORCODE.INVALID_ARGUMENT),
    ]
    for call, code in cases:
        result = call()
        status = result[0] if isinstance(result, tuple) else result
        assert status == code, (status, code, lineup.last_error_message())
        assert lineup.last_error_message() != ""
    assert sdk.get_collection_identities("staff")[1] == before
    assert lineup.last_error_message() == ""
    # Two collections loaded: an unnamed call is ambiguous.
    assert sdk.create_load_collection("second") == OK
    assert sdk.identify_top_candidate(Faceprint(vectors[0]))[0] == ERRORCODE.NO_COLLECTION_SPECIFIED
    assert sdk.identify_top_candidate(Faceprint(vectors[0]), collection_name="staff")[0] == OK


def test_names_of_other_types(gallery, tmp_path):
    """Every str parameter given something else (an array among them, whose == is elementwise)
    answers INVALID_ARGUMENT and changes nothing."""
    sdk, vectors, identities, uuids = gallery
    before = sdk.get_collection_identities("staff")[1]
    for odd in (np.zeros(0, dtype=np.float32), np.zeros((2, 3)), b"staff", 3, None, ["staff"]):
        calls = [
            lambda: sdk.enroll_faceprint(Faceprint(vectors[0]), "x", odd),
            lambda: sdk.identify_top_candidate(Faceprint(vectors[0]), collection_name=odd),
            lambda: sdk.identify_top_candidates(Faceprint(vectors[0]), 3, collection_name=odd),
            lambda: sdk.remove_by_identity(odd),
            lambda: sdk.remove_by_UUID(odd),
            lambda: sdk.get_collection_metadata(odd),
            lambda: sdk.load_collection(odd),
            lambda: sdk.delete_collection(odd),
        ]
        for call in calls:
            result = call()
            status = result[0] if isinstance(result, tuple) else result
            assert isinstance(status, ERRORCODE)
            if odd is not None:
                assert status == ERRORCODE.INVALID_ARGUMENT, (odd, status, lineup.last_error_message())
    options = lineup.ConfigurationOptions()
    options.dbms = lineup.DATABASEMANAGEMENTSYSTEM.NONE
    assert lineup.SDK(options).create_database_connection(np.zeros(0)) == ERRORCODE.INVALID_ARGUMENT
    assert sdk.get_collection_identities("staff")[1] == before


def test_connection_errors(tmp_path):
    options = lineup.ConfigurationOptions()
    sdk = lineup.SDK(options)
    assert sdk.create_database_connection(str(tmp_path / "no" / "such" / "store")) == ERRORCODE.DATABASE_CONNECTION_ERROR
    options.dbms = lineup.DATABASEMANAGEMENTSYSTEM.POSTGRESQL
    assert lineup.SDK(options).create_database_connection("host=127.0.0.1") == ERRORCODE.FEATURE_NOT_SUPPORTED
    options = lineup.ConfigurationOptions()
    options.vector_compression = "zip"
    assert lineup.SDK(options).create_database_connection(str(tmp_path / "s")) == ERRORCODE.INVALID_ARGUMENT
    secret = str(tmp_path / "secret")
    encrypted = connect(secret, encryption_key="right passphrase", fr_vector_compression=True)
    assert encrypted.create_load_collection("staff") == OK
    assert encrypted.enroll_faceprint(Faceprint([1.0, 2.0]), "a")[0] == OK
    assert encrypted.get_collection_metadata("staff")[1].feature_vector_size_bytes == 4   # fp16
    assert encrypted.rekey("newer passphrase") == OK
    connect(None)   # release the store
    wrong = lineup.ConfigurationOptions()
    wrong.encryption_key = "right passphrase"
    assert lineup.SDK(wrong).create_database_connection(secret) == ERRORCODE.WRONG_ENCRYPTION_KEY
    assert connect(None).backup(str(tmp_path / "copy")) == ERRORCODE.FEATURE_NOT_SUPPORTED


def test_threads_identify_at_once(gallery):
    sdk, vectors, identities, uuids = gallery
    expected = [sdk.identify_top_candidates(Faceprint(v), 3, threshold=-1)[2] for v in vectors]
    failures = []

    def worker(offset):
        for round_ in range(100):
            row = (offset + round_) % len(vectors)
            status, found, got = sdk.identify_top_candidates(Faceprint(vectors[row]), 3, threshold=-1)
            if status != OK or got != expected[row]:
                failures.append(row)
    threads = [threading.Thread(target=worker, args=(i * 7,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def run_python(code, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_second_process_sees_the_file_store(gallery, tmp_path):
    sdk, vectors, identities, uuids = gallery
    result = run_python("""
        import sys, lineup
        sdk = lineup.SDK(lineup.ConfigurationOptions())
        assert sdk.create_database_connection(sys.argv[1]) == lineup.ERRORCODE.NO_ERROR
        assert sdk.load_collection("staff") == lineup.ERRORCODE.NO_ERROR
        print(sdk.get_collection_metadata("staff")[1].num_faceprints)
        # This process holds no lock: its writes are refused.
        print(sdk.enroll_faceprint(lineup.Faceprint([1.0] * 32), "x")[0].name)
        """, str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["60", "STORE_LOCKED"]


def test_a_second_process_receives_shared_changes(tmp_path):
    store = str(tmp_path / "shared")
    options = lineup.ConfigurationOptions()
    options.dbms = lineup.DATABASEMANAGEMENTSYSTEM.SHARED
    options.db_notification_check_frequency = 0.05
    sdk = lineup.SDK(options)
    assert sdk.create_database_connection(store) == OK and sdk.create_load_collection("staff") == OK
    vectors, identities = faces(8, seed=3)
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time, lineup, numpy as np
        options = lineup.ConfigurationOptions()
        options.dbms = lineup.DATABASEMANAGEMENTSYSTEM.SHARED
        options.db_notification_check_frequency = 0.05
        sdk = lineup.SDK(options)
        assert sdk.create_database_connection(sys.argv[1]) == lineup.ERRORCODE.NO_ERROR
        assert sdk.load_collection("staff") == lineup.ERRORCODE.NO_ERROR
        print("ready", flush=True)
        probe = lineup.Faceprint(np.array([float(x) for x in sys.argv[2].split(",")], dtype=np.float32))
        deadline = time.time() + 30
        while time.time() < deadline:
            status, found, candidate = sdk.identify_top_candidate(probe, threshold=0.99)
            if found:
                print(candidate.identity, flush=True)
                break
            time.sleep(0.02)
        """), store, ",".join(str(float(x)) for x in vectors[3])],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout.readline().strip() == "ready"
    assert sdk.enroll_faceprints(vectors, identities)[0] == OK
    assert child.stdout.readline().strip() == identities[3]
    assert child.wait(timeout=30) == 0


def resident_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_no_memory_growth_over_100000_calls(tmp_path):
    sdk = connect(str(tmp_path / "store"))
    assert sdk.create_load_collection("staff") == OK
    vectors, identities = faces(200, dimension=16)
    assert sdk.enroll_faceprints(vectors, identities)[0] == OK
    probe = Faceprint(vectors[1])
    bad = Faceprint(vectors[1][:3])

    def calls(count):
        for index in range(count):
            if index % 10 == 9:
                assert sdk.identify_top_candidate(bad)[0] == ERRORCODE.INVALID_ARGUMENT
            elif index % 10 == 8:
                assert sdk.get_collection_identities("staff")[0] == OK if index % 1000 == 998 else True
            else:
                assert sdk.identify_top_candidates(probe, 3)[0] == OK
    calls(10_000)
    before = resident_bytes()
    calls(100_000)
    grown = resident_bytes() - before
    assert grown < 16 << 20, f"resident memory grew by {grown / 1e6:.1f} MB over 100,000 calls"


def test_numpy_layouts(tmp_path):
    sdk = connect(str(tmp_path / "store"))
    assert sdk.create_load_collection("staff") == OK
    vectors, identities = faces(20)
    fortran = np.asfortranarray(vectors.astype(np.float64))
    status, uuids = sdk.enroll_faceprints(fortran, identities)
    assert status == OK
    status, results = sdk.identify(vectors[::2], top=1, threshold=0.9)
    assert status == OK and [r[0].UUID for r in results] == uuids[::2]
    assert sdk.identify(vectors.tolist(), top=1)[0] == OK


def test_faceprint_json():
    faceprint = Faceprint([0.5, -1.25, 3.0], model_name="M", model_options="o")
    again = Faceprint.from_json(faceprint.to_json())
    assert list(again.feature_vector) == [0.5, -1.25, 3.0] and again.model_name == "M" and again.model_options == "o"
    with pytest.raises(ValueError):
        Faceprint.from_json('{"vector": []}')
