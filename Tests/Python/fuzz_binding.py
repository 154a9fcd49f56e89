"""atheris over the binding's decoding of Python inputs: whatever the fuzzer makes — strings
with NULs, surrogates and odd bytes, vectors of any length and values, wrong types, matrices
of any shape — every SDK call answers an ERRORCODE and never raises, crashes or changes a
collection it refused. `make fuzz-python` runs it for FUZZ_SECONDS."""
import os
import sys
import tempfile

import atheris

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Bindings", "Python"))
os.environ.setdefault("LINEUP_LIBRARY", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                     ".build", "debug", "liblineup.so"))

with atheris.instrument_imports():
    import numpy as np
    import lineup
    from lineup import ERRORCODE, Faceprint

sdk = lineup.SDK(lineup.ConfigurationOptions())
_store = tempfile.mkdtemp(prefix="lineup-fuzz-")
assert sdk.create_database_connection(os.path.join(_store, "store")) == ERRORCODE.NO_ERROR
assert sdk.create_load_collection("staff") == ERRORCODE.NO_ERROR
assert sdk.enroll_faceprint(Faceprint([1.0] * 8), "seed")[0] == ERRORCODE.NO_ERROR


def value(data: atheris.FuzzedDataProvider):
    kind = data.ConsumeIntInRange(0, 7)
    if kind == 0:
        return data.ConsumeUnicodeNoSurrogates(16)
    if kind == 1:
        return data.ConsumeUnicode(16)
    if kind == 2:
        return data.ConsumeFloatListInRange(data.ConsumeIntInRange(0, 12), -1e40, 1e40)
    if kind == 3:
        return data.ConsumeIntInRange(-3, 1 << 40)
    if kind == 4:
        return data.ConsumeFloat()
    if kind == 5:
        return None
    if kind == 6:
        rows, columns = data.ConsumeIntInRange(0, 3), data.ConsumeIntInRange(0, 10)
        return np.array(data.ConsumeFloatListInRange(rows * columns, -10, 10), dtype=np.float32).reshape(rows, columns)
    return [data.ConsumeFloatListInRange(8, -1, 1)]


def test_one(raw: bytes) -> None:
    data = atheris.FuzzedDataProvider(raw)
    a, b, c = value(data), value(data), value(data)
    name = "staff" if data.ConsumeBool() else value(data)
    calls = [
        lambda: sdk.enroll_faceprint(Faceprint(a, model_name=b if isinstance(b, str) else "TFV5_2"), c, name if isinstance(name, str) else ""),
        lambda: sdk.enroll_faceprints(a, [c] if isinstance(c, str) else c),
        lambda: sdk.identify_top_candidate(Faceprint(a), b, name),
        lambda: sdk.identify_top_candidates(Faceprint(a), b, c),
        lambda: sdk.identify(a, b, c, name),
        lambda: sdk.batch_identify_top_candidate([Faceprint(a), Faceprint(b)], c),
        lambda: sdk.remove_by_identity(a, name),
        lambda: sdk.remove_by_UUID(a),
        lambda: sdk.get_collection_metadata(a),
        lambda: sdk.load_collections(a if isinstance(a, list) else [a]),
    ]
    try:
        Faceprint.from_json(data.ConsumeUnicode(64))
    except ValueError:
        pass
    before = sdk.get_collection_metadata("staff")[1].num_faceprints
    result = calls[data.ConsumeIntInRange(0, len(calls) - 1)]()
    status = result[0] if isinstance(result, tuple) else result
    assert isinstance(status, ERRORCODE)
    # A refused call changed nothing.
    if status != ERRORCODE.NO_ERROR:
        assert sdk.get_collection_metadata("staff")[1].num_faceprints == before, lineup.last_error_message()


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
