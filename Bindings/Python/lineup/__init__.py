"""Lineup from Python: an embedded store and 1:N matcher for face-recognition templates.

The names and call shapes follow the 1:N identification API of the face SDK Lineup re-creates
(API.md section 4), so code written for it ports by changing the import:

    import lineup
    opts = lineup.ConfigurationOptions()
    opts.dbms = lineup.DATABASEMANAGEMENTSYSTEM.SQLITE      # the on-disk store
    sdk = lineup.SDK(opts)
    res = sdk.create_database_connection("/data/gallery")
    res = sdk.create_load_collection("staff")
    res, uuid = sdk.enroll_faceprint(lineup.Faceprint(vector), "alice")
    res, found, candidate = sdk.identify_top_candidate(lineup.Faceprint(probe), threshold=0.4)

Every method returns an ``ERRORCODE`` first (``NO_ERROR`` on success), then its results; a
call that fails changes nothing, and ``last_error_message()`` says why. Every call goes into the
same engine as the Swift and C interfaces (liblineup.so, through cffi); the GIL is released
while the engine works, so Python threads run in parallel.

Bulk paths take numpy arrays without a Python loop: ``SDK.enroll_faceprints(matrix,
identities)`` and ``SDK.identify(matrix, top, threshold)`` pass an (N, D) C-contiguous float32
array to the engine as it is (other layouts and dtypes are converted once).
"""
from __future__ import annotations

import enum
import json
import math
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ._native import ffi, lib

__all__ = ["ERRORCODE", "DATABASEMANAGEMENTSYSTEM", "ConfigurationOptions", "Faceprint", "Candidate",
           "CollectionMetadata", "SDK", "last_error_message", "version"]


class ERRORCODE(enum.IntEnum):
    """The status of a call: ``NO_ERROR``, or the engine's ``ErrorCode`` in upper snake case.
    The numbers are those of lineup.h's ``lineup_status`` and never change."""
    NO_ERROR = 0
    DATABASE_CONNECTION_ERROR = 1
    DATABASE_NOT_CONNECTED = 2
    COLLECTION_CREATION_ERROR = 3
    NO_COLLECTION_FOUND = 4
    COLLECTION_DELETION_ERROR = 5
    COLLECTION_NOT_LOADED = 6
    NO_COLLECTION_SPECIFIED = 7
    NO_RECORD_FOUND = 8
    ENROLLMENT_ERROR = 9
    INPUT_IS_EMPTY = 10
    INVALID_ARGUMENT = 11
    FEATURE_NOT_SUPPORTED = 12
    CORRUPT_STORE = 13
    WRONG_ENCRYPTION_KEY = 14
    STORE_LOCKED = 15
    IO_ERROR = 16
    READ_ONLY = 17
    UNSUPPORTED_FORMAT_VERSION = 18


class DATABASEMANAGEMENTSYSTEM(enum.IntEnum):
    """Where collections live. ``SQLITE`` is the seed's name for the single-process on-disk
    store, which Lineup keeps in its own files."""
    NONE = 0         # memory only
    SQLITE = 1       # the on-disk store (one process writes)
    SHARED = 2       # the on-disk store, several processes, each following the others
    POSTGRESQL = 3   # a PostgreSQL server (a build with the trait PostgreSQL)


# Per thread: the message of a call the binding refused itself, or None when the last call
# went to the library (whose own per-thread message then tells).
_local = threading.local()


def last_error_message() -> str:
    """What the calling thread's last failed call said ("" after a success)."""
    message = getattr(_local, "message", None)
    if message is not None:
        return message
    return ffi.string(lib.lineup_last_error_message()).decode("utf-8", "replace")


def version() -> str:
    """The C interface's version ("1.0.0"; its major number is LINEUP_ABI_VERSION)."""
    return ffi.string(lib.lineup_version()).decode()


class _Refused(Exception):
    """A Python argument the binding refuses before calling the engine."""

    def __init__(self, code: ERRORCODE, message: str):
        super().__init__(message)
        self.code = code


def _status(status: int) -> ERRORCODE:
    _local.message = None
    return ERRORCODE(status)


def _refuse(error: _Refused) -> ERRORCODE:
    _local.message = str(error)
    return error.code


def _text(value: Any, what: str, allow_empty: bool = True):
    """A str as NUL-terminated UTF-8 for the library."""
    if not isinstance(value, str):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"{what} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"{what} contains a NUL character")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"{what} is not valid Unicode (a lone surrogate)") from None
    return ffi.new("char[]", encoded)


def _packed(names: List[Any]) -> bytes:
    """Identities as UTF-8, each followed by a NUL, in one pass; refuses a non-str, a NUL
    inside one or a lone surrogate, naming the first such identity."""
    try:
        joined = "\x00".join(names)
        if joined.count("\x00") == max(len(names) - 1, 0):
            return joined.encode("utf-8") + b"\x00"
    except (TypeError, UnicodeEncodeError):
        pass
    for index, name in enumerate(names):
        if not isinstance(name, str) or "\x00" in name:
            raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"identity {index} must be a str without NUL")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"identity {index} is not valid Unicode") from None
    raise AssertionError("unreachable: every identity is a str without NUL")


def _collection(name: Any):
    return ffi.NULL if isinstance(name, str) and name == "" else _text(name, "collection_name")


def _vector(values: Any) -> np.ndarray:
    """A 1-d float32 C-contiguous array (no copy when it is one already)."""
    try:
        array = np.ascontiguousarray(values, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, "a feature vector must be a list or 1-d array of numbers") from None
    if array.ndim != 1:
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"a feature vector must be 1-d, not of shape {array.shape}")
    return array


def _matrix(values: Any) -> np.ndarray:
    """An (N, D) float32 C-contiguous array (no copy when it is one already)."""
    try:
        array = np.ascontiguousarray(values, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, "a matrix must be an (N, D) array of numbers") from None
    if array.ndim != 2:
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"a matrix must be (N, D), not of shape {array.shape}")
    return array


def _floats(array: np.ndarray):
    return ffi.from_buffer("float[]", array) if array.size else ffi.NULL


class ConfigurationOptions:
    """The options of an ``SDK``: they matter when it connects (``dbms``, ``encryption_key``)
    and when it creates a collection (``fr_model``, the compression)."""

    def __init__(self) -> None:
        self.dbms: DATABASEMANAGEMENTSYSTEM = DATABASEMANAGEMENTSYSTEM.SQLITE
        self.fr_model: str = "TFV5_2"
        #: True: new collections store fp16 vectors (the seed's flag).
        self.fr_vector_compression: bool = False
        #: "none", "fp16" or "int8"; None: decided by fr_vector_compression.
        self.vector_compression: Optional[str] = None
        #: The passphrase of an encrypted store, or None.
        self.encryption_key: Optional[str] = None
        #: Seconds between change checks (shared and PostgreSQL); None: the default.
        self.db_notification_check_frequency: Optional[float] = None
        self.read_only: bool = False
        #: "full" (survives a power loss) or "process_crash".
        self.durability: str = "full"
        self.automatic_compaction: bool = True

    def _handle(self):
        compression = self.vector_compression or ("fp16" if self.fr_vector_compression else "none")
        compressions = {"none": lib.LINEUP_COMPRESSION_NONE, "fp16": lib.LINEUP_COMPRESSION_FP16,
                        "int8": lib.LINEUP_COMPRESSION_INT8}
        durabilities = {"full": lib.LINEUP_DURABILITY_FULL, "process_crash": lib.LINEUP_DURABILITY_PROCESS_CRASH}
        if compression not in compressions:
            raise _Refused(ERRORCODE.INVALID_ARGUMENT, 'vector_compression must be "none", "fp16" or "int8"')
        if self.durability not in durabilities:
            raise _Refused(ERRORCODE.INVALID_ARGUMENT, 'durability must be "full" or "process_crash"')
        try:
            dbms = int(DATABASEMANAGEMENTSYSTEM(self.dbms))
        except ValueError:
            raise _Refused(ERRORCODE.INVALID_ARGUMENT, "dbms must be a DATABASEMANAGEMENTSYSTEM") from None
        out = ffi.new("lineup_options **")
        _check(lib.lineup_options_create(out))
        handle = ffi.gc(out[0], lib.lineup_options_free)
        _check(lib.lineup_options_set_dbms(handle, dbms))
        _check(lib.lineup_options_set_fr_model(handle, _text(self.fr_model, "fr_model")))
        _check(lib.lineup_options_set_vector_compression(handle, compressions[compression]))
        _check(lib.lineup_options_set_encryption_key(
            handle, ffi.NULL if self.encryption_key is None else _text(self.encryption_key, "encryption_key")))
        if self.db_notification_check_frequency is not None:
            _check(lib.lineup_options_set_notification_check_interval(handle, float(self.db_notification_check_frequency)))
        _check(lib.lineup_options_set_read_only(handle, 1 if self.read_only else 0))
        _check(lib.lineup_options_set_durability(handle, durabilities[self.durability]))
        _check(lib.lineup_options_set_automatic_compaction(handle, 1 if self.automatic_compaction else 0))
        return handle


def _check(status: int) -> None:
    if status != 0:
        raise _Refused(ERRORCODE(status), ffi.string(lib.lineup_last_error_message()).decode("utf-8", "replace"))


class Faceprint:
    """A face template: a feature vector and the model that made it."""

    def __init__(self, feature_vector: Any = None, model_name: str = "TFV5_2", model_options: str = "") -> None:
        self.feature_vector = [] if feature_vector is None else feature_vector
        self.model_name = model_name
        self.model_options = model_options

    @classmethod
    def from_json(cls, text: str) -> "Faceprint":
        """The seed's JSON form: {"feature_vector": [...], "model_name": ..., "model_options": ...}."""
        value = json.loads(text)
        if not isinstance(value, dict) or not isinstance(value.get("feature_vector"), list):
            raise ValueError('a Faceprint is a JSON object with an array "feature_vector"')
        return cls(value["feature_vector"], value.get("model_name") or "TFV5_2", value.get("model_options") or "")

    def to_json(self) -> str:
        vector = [float(x) if math.isfinite(float(x)) else None for x in np.asarray(self.feature_vector, dtype=np.float32)]
        return json.dumps({"feature_vector": vector, "model_name": self.model_name, "model_options": self.model_options})

    def __repr__(self) -> str:
        return f"Faceprint(<{len(self.feature_vector)} values>, model_name={self.model_name!r})"


class Candidate:
    """A match: the Faceprint's UUID and identity, its similarity to the probe and the
    probability that the two are the same person."""

    __slots__ = ("UUID", "identity", "similarity_measure", "match_probability")

    def __init__(self, UUID: str = "", identity: str = "", similarity_measure: float = 0.0, match_probability: float = 0.0):
        self.UUID = UUID
        self.identity = identity
        self.similarity_measure = similarity_measure
        self.match_probability = match_probability

    def to_dict(self) -> Dict[str, Any]:
        return {"UUID": self.UUID, "identity": self.identity, "similarity_measure": self.similarity_measure,
                "match_probability": self.match_probability}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Candidate) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Candidate({self.UUID!r}, {self.identity!r}, similarity_measure={self.similarity_measure:.6g})"


class CollectionMetadata:
    """What a collection holds (the seed's properties)."""

    def __init__(self, collection_name: str = "", encrypted: bool = False, feature_vector_size_bytes: int = 0,
                 model_name: str = "", model_options: str = "", num_faceprints: int = 0, num_identities: int = 0):
        self.collection_name = collection_name
        self.encrypted = encrypted
        self.feature_vector_size_bytes = feature_vector_size_bytes
        self.model_name = model_name
        self.model_options = model_options
        self.num_faceprints = num_faceprints
        self.num_identities = num_identities

    def __repr__(self) -> str:
        return f"CollectionMetadata({self.collection_name!r}, num_faceprints={self.num_faceprints})"


def _candidates(matches) -> List[List[Candidate]]:
    """The library's dense result as lists of Candidates, one list per probe."""
    value = matches[0]
    columns = value.columns
    results = []
    for probe in range(value.probe_count):
        row = []
        for rank in range(value.counts[probe]):
            slot = probe * columns + rank
            row.append(Candidate(ffi.string(value.uuids[slot]).decode(),
                                 ffi.string(value.identities[slot]).decode("utf-8"),
                                 float(value.similarity_measures[slot]), float(value.match_probabilities[slot])))
        results.append(row)
    return results


class SDK:
    """The 1:N identification API. Every SDK of a process shares one database connection and
    one set of loaded collections. Thread-safe: call it from any number of threads."""

    def __init__(self, options: Optional[ConfigurationOptions] = None) -> None:
        self.options = options or ConfigurationOptions()
        self._handle = None

    def _sdk(self):
        """The library's SDK, made from the options as they are at the first call."""
        if self._handle is None:
            options = self.options._handle()
            out = ffi.new("lineup_sdk **")
            _check(lib.lineup_sdk_create(options, out))
            self._handle = ffi.gc(out[0], lib.lineup_sdk_free)
        return self._handle

    def _call(self, function, *arguments) -> ERRORCODE:
        return _status(function(self._sdk(), *arguments))

    # Database and collections

    def create_database_connection(self, database_connection_string: str) -> ERRORCODE:
        """Connects the process to the store at this path (or PostgreSQL conninfo)."""
        try:
            text = ffi.NULL if self.options.dbms == DATABASEMANAGEMENTSYSTEM.NONE and isinstance(database_connection_string, str) and database_connection_string == "" \
                else _text(database_connection_string, "database_connection_string")
            return self._call(lib.lineup_create_database_connection, text)
        except _Refused as error:
            return _refuse(error)

    def _named(self, function, collection_name: str) -> ERRORCODE:
        try:
            return self._call(function, _text(collection_name, "collection_name"))
        except _Refused as error:
            return _refuse(error)

    def create_load_collection(self, collection_name: str) -> ERRORCODE:
        return self._named(lib.lineup_create_load_collection, collection_name)

    def create_collection(self, collection_name: str) -> ERRORCODE:
        return self._named(lib.lineup_create_collection, collection_name)

    def load_collection(self, collection_name: str) -> ERRORCODE:
        return self._named(lib.lineup_load_collection, collection_name)

    def load_collections(self, collection_names: Sequence[str]) -> ERRORCODE:
        try:
            names = [_text(n, "collection_name") for n in _list(collection_names, "collection_names must be a list of str")]
            array = ffi.new("const char *[]", names) if names else ffi.NULL
            return self._call(lib.lineup_load_collections, array, len(names))
        except TypeError:
            return _refuse(_Refused(ERRORCODE.INVALID_ARGUMENT, "collection_names must be a list of str"))
        except _Refused as error:
            return _refuse(error)

    def delete_collection(self, collection_name: str) -> ERRORCODE:
        return self._named(lib.lineup_delete_collection, collection_name)

    def get_collection_names(self) -> Tuple[ERRORCODE, List[str]]:
        out = ffi.new("lineup_string_list **")
        try:
            status = self._call(lib.lineup_get_collection_names, out)
        except _Refused as error:
            return _refuse(error), []
        if status != ERRORCODE.NO_ERROR:
            return status, []
        try:
            return status, [ffi.string(out[0].items[i]).decode("utf-8") for i in range(out[0].count)]
        finally:
            lib.lineup_free_string_list(out[0])

    def get_collection_metadata(self, collection_name: str) -> Tuple[ERRORCODE, CollectionMetadata]:
        out = ffi.new("lineup_collection_metadata **")
        try:
            status = self._call(lib.lineup_get_collection_metadata, _text(collection_name, "collection_name"), out)
        except _Refused as error:
            return _refuse(error), CollectionMetadata()
        if status != ERRORCODE.NO_ERROR:
            return status, CollectionMetadata()
        m = out[0]
        try:
            return status, CollectionMetadata(ffi.string(m.collection_name).decode("utf-8"), bool(m.encrypted),
                                              int(m.feature_vector_size_bytes), ffi.string(m.model_name).decode("utf-8"),
                                              ffi.string(m.model_options).decode("utf-8"), int(m.num_faceprints),
                                              int(m.num_identities))
        finally:
            lib.lineup_free_collection_metadata(m)

    def get_collection_identities(self, collection_name: str) -> Tuple[ERRORCODE, str]:
        """A JSON string mapping each UUID to its identity, as the seed gives it."""
        out = ffi.new("lineup_identity_list **")
        try:
            status = self._call(lib.lineup_get_collection_identities, _text(collection_name, "collection_name"), out)
        except _Refused as error:
            return _refuse(error), ""
        if status != ERRORCODE.NO_ERROR:
            return status, ""
        try:
            value = out[0]
            mapping = {ffi.string(value.uuids[i]).decode(): ffi.string(value.identities[i]).decode("utf-8")
                       for i in range(value.count)}
            return status, json.dumps(mapping, ensure_ascii=False)
        finally:
            lib.lineup_free_identity_list(out[0])

    # Enrollment and removal

    def enroll_faceprint(self, faceprint: Faceprint, identity: str, collection_name: str = "") -> Tuple[ERRORCODE, str]:
        """Enrolls one Faceprint; returns its new UUID once the enrollment is durable."""
        try:
            if not isinstance(faceprint, Faceprint):
                raise _Refused(ERRORCODE.INVALID_ARGUMENT, "faceprint must be a lineup.Faceprint")
            vector = _vector(faceprint.feature_vector)
            uuid = ffi.new("char[]", lib.LINEUP_UUID_SIZE)
            status = self._call(lib.lineup_enroll_faceprint, _floats(vector), vector.size,
                                _text(faceprint.model_name, "model_name"), _text(identity, "identity"),
                                _collection(collection_name), uuid)
        except _Refused as error:
            return _refuse(error), ""
        return status, (ffi.string(uuid).decode() if status == ERRORCODE.NO_ERROR else "")

    def enroll_faceprints(self, matrix: Any, identities: Sequence[str], collection_name: str = "",
                          model_name: str = "TFV5_2") -> Tuple[ERRORCODE, List[str]]:
        """Enrolls the rows of an (N, D) array under N identities, all or none, in one durable
        batch; returns the N new UUIDs in order."""
        try:
            array = _matrix(matrix)
            names = _list(identities, "identities must be a list of str")
            packed = _packed(names)
            if len(names) != array.shape[0]:
                raise _Refused(ERRORCODE.INVALID_ARGUMENT, f"{array.shape[0]} rows but {len(names)} identities")
            rows = array.shape[0]
            uuids = ffi.new("char[]", max(1, rows) * lib.LINEUP_UUID_SIZE)
            status = self._call(lib.lineup_enroll_faceprints, _floats(array), rows, array.shape[1],
                                _text(model_name, "model_name"), ffi.from_buffer(packed), len(packed),
                                _collection(collection_name), uuids)
        except _Refused as error:
            return _refuse(error), []
        if status != ERRORCODE.NO_ERROR:
            return status, []
        # LINEUP_UUID_SIZE bytes a UUID, the last a NUL: one split gives them all.
        return status, ffi.buffer(uuids, rows * lib.LINEUP_UUID_SIZE)[:].decode("ascii").split("\x00")[:rows]

    def remove_by_UUID(self, UUID: str, collection_name: str = "") -> ERRORCODE:
        try:
            return self._call(lib.lineup_remove_by_uuid, _text(UUID, "UUID"), _collection(collection_name))
        except _Refused as error:
            return _refuse(error)

    def remove_by_identity(self, identity: str, collection_name: str = "") -> Tuple[ERRORCODE, int]:
        removed = ffi.new("size_t *")
        try:
            status = self._call(lib.lineup_remove_by_identity, _text(identity, "identity"), _collection(collection_name), removed)
        except _Refused as error:
            return _refuse(error), 0
        return status, int(removed[0]) if status == ERRORCODE.NO_ERROR else 0

    # Identification

    def _one(self, function, faceprint: Faceprint, *arguments) -> Tuple[ERRORCODE, List[Candidate]]:
        if not isinstance(faceprint, Faceprint):
            raise _Refused(ERRORCODE.INVALID_ARGUMENT, "faceprint must be a lineup.Faceprint")
        vector = _vector(faceprint.feature_vector)
        out = ffi.new("lineup_matches **")
        status = self._call(function, _floats(vector), vector.size, _text(faceprint.model_name, "model_name"), *arguments, out)
        if status != ERRORCODE.NO_ERROR:
            return status, []
        try:
            return status, _candidates(out)[0]
        finally:
            lib.lineup_free_matches(out[0])

    def identify_top_candidate(self, faceprint: Faceprint, threshold: float = 0.4,
                               collection_name: str = "") -> Tuple[ERRORCODE, bool, Optional[Candidate]]:
        """The most similar Faceprint at or above the threshold: (ERRORCODE, found, Candidate)."""
        try:
            status, found = self._one(lib.lineup_identify_top_candidate, faceprint, _threshold(threshold),
                                      _collection(collection_name))
        except _Refused as error:
            return _refuse(error), False, None
        return status, bool(found), (found[0] if found else None)

    def identify_top_candidates(self, faceprint: Faceprint, num_candidates: int, threshold: float = 0.4,
                                collection_name: str = "") -> Tuple[ERRORCODE, bool, List[Candidate]]:
        """Up to num_candidates matches, best first: (ERRORCODE, found, [Candidate])."""
        try:
            status, found = self._one(lib.lineup_identify_top_candidates, faceprint, _count(num_candidates),
                                      _threshold(threshold), _collection(collection_name))
        except _Refused as error:
            return _refuse(error), False, []
        return status, bool(found), found

    def identify_top_identities(self, faceprint: Faceprint, num_candidates: int, threshold: float = 0.4,
                                collection_name: str = "") -> Tuple[ERRORCODE, bool, List[Candidate]]:
        """Up to num_candidates people, each at its best Faceprint."""
        try:
            status, found = self._one(lib.lineup_identify_top_identities, faceprint, _count(num_candidates),
                                      _threshold(threshold), _collection(collection_name))
        except _Refused as error:
            return _refuse(error), False, []
        return status, bool(found), found

    def batch_identify_top_candidate(self, faceprints: Sequence[Faceprint], threshold: float = 0.4,
                                     collection_name: str = "") -> Tuple[ERRORCODE, List[bool], List[Optional[Candidate]]]:
        """identify_top_candidate for each probe, in parallel over one snapshot."""
        try:
            probes = _list(faceprints, "faceprints must be a list of lineup.Faceprint")
            if not all(isinstance(f, Faceprint) for f in probes):
                raise _Refused(ERRORCODE.INVALID_ARGUMENT, "faceprints must be lineup.Faceprint objects")
            models = {f.model_name for f in probes}
            if len(models) > 1:
                raise _Refused(ERRORCODE.INVALID_ARGUMENT, "the probes of one batch must share a model")
            vectors = [_vector(f.feature_vector) for f in probes]
            dimensions = {v.size for v in vectors}
            if len(dimensions) > 1:
                raise _Refused(ERRORCODE.INVALID_ARGUMENT, "the probes of one batch must share a dimension")
            pointers = ffi.new("const float *[]", [_floats(v) for v in vectors]) if vectors else ffi.NULL
            out = ffi.new("lineup_matches **")
            status = self._call(lib.lineup_batch_identify_top_candidate, pointers, len(vectors),
                                dimensions.pop() if dimensions else 0, _text(models.pop() if models else "TFV5_2", "model_name"),
                                _threshold(threshold), _collection(collection_name), out)
        except _Refused as error:
            return _refuse(error), [], []
        if status != ERRORCODE.NO_ERROR:
            return status, [], []
        try:
            results = _candidates(out)
        finally:
            lib.lineup_free_matches(out[0])
        return status, [bool(r) for r in results], [r[0] if r else None for r in results]

    def identify(self, matrix: Any, top: int = 1, threshold: float = 0.4, collection_name: str = "",
                 distinct_identities: bool = False, model_name: str = "TFV5_2") -> Tuple[ERRORCODE, List[List[Candidate]]]:
        """Up to `top` matches for each row of an (N, D) array, in one batch over one snapshot."""
        try:
            array = _matrix(matrix)
            out = ffi.new("lineup_matches **")
            flags = lib.LINEUP_IDENTIFY_DISTINCT_IDENTITIES if distinct_identities else 0
            status = self._call(lib.lineup_identify_matrix, _floats(array), array.shape[0], array.shape[1],
                                _text(model_name, "model_name"), _count(top), _threshold(threshold), flags,
                                _collection(collection_name), out)
        except _Refused as error:
            return _refuse(error), []
        if status != ERRORCODE.NO_ERROR:
            return status, []
        try:
            return status, _candidates(out)
        finally:
            lib.lineup_free_matches(out[0])

    # Maintenance

    def compact(self, collection_name: Optional[str] = None) -> ERRORCODE:
        try:
            return self._call(lib.lineup_compact, ffi.NULL if collection_name is None else _text(collection_name, "collection_name"))
        except _Refused as error:
            return _refuse(error)

    def rekey(self, new_encryption_key: str) -> ERRORCODE:
        try:
            return self._call(lib.lineup_rekey, _text(new_encryption_key, "new_encryption_key"))
        except _Refused as error:
            return _refuse(error)

    def backup(self, path: str) -> ERRORCODE:
        try:
            return self._call(lib.lineup_backup, _text(path, "path"))
        except _Refused as error:
            return _refuse(error)


def _list(value: Any, message: str) -> list:
    """A list of the items of `value`: any iterable but a str or bytes."""
    if isinstance(value, (str, bytes)):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, message)
    try:
        return list(value)
    except TypeError:
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, message) from None


def _threshold(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, "the threshold must be a number") from None
    if not math.isfinite(number):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, "the threshold must be a finite number")
    return number


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, "num_candidates must be an int")
    if value < 1:
        raise _Refused(ERRORCODE.INVALID_ARGUMENT, "num_candidates must be at least 1")
    return min(int(value), (1 << 63) - 1)
