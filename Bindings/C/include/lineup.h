/*
 * lineup.h — the C interface of Lineup, an embedded storage engine and 1:N matcher for
 * face-recognition templates ("Faceprints").
 *
 * Link with -llineup (the shared library liblineup.so, built from the Swift package: `make
 * lib` puts it in .build/debug, `make lib CONFIG=release` in .build/release). Every function
 * below calls the same Swift engine as the Swift SDK (`import Lineup`), and behaves as the
 * SDK method it is named after; the rules are those of API.md §1 and the Swift
 * documentation of `SDK`.
 *
 * Conventions, which hold for every function unless its comment says otherwise:
 *
 *   Status.    Every function that can fail returns a lineup_status: LINEUP_OK (0), or the
 *              code of the error. Each code corresponds to one case of the Swift `ErrorCode`;
 *              the numbers are part of the ABI and are never changed or reused (a new code
 *              gets the next free number). A call that fails has changed nothing and has not
 *              written its out-parameters.
 *   Messages.  lineup_last_error_message() gives the message of the calling thread's last
 *              failed call. Messages never contain key material, passphrases or vector values.
 *   Handles.   lineup_options and lineup_sdk are opaque; make them with their _create
 *              function and release them with their _free function (NULL is accepted and
 *              ignored there).
 *   Strings.   In: NUL-terminated UTF-8 (invalid UTF-8 gives LINEUP_INVALID_ARGUMENT). Out:
 *              NUL-terminated UTF-8 inside memory the library owns.
 *   Vectors.   `const float *` with a dimension; matrices are row-major and contiguous: row i
 *              starts at matrix + i * dimension. The library reads them during the call only.
 *   Pointers.  A NULL where a value is required gives LINEUP_INVALID_ARGUMENT, as do a
 *              dimension above LINEUP_MAXIMUM_DIMENSION and sizes whose product overflows.
 *              `collection_name` arguments of enroll, remove and identify may be NULL or ""
 *              for "the only loaded collection".
 *   Memory.    What the library returns through a pointer-to-pointer is allocated by it and
 *              released only by the lineup_free_* function named in the comment. Nothing is
 *              ever freed by the caller with free(3).
 *   Threads.   Every function may be called from any number of threads at once, on the same
 *              lineup_sdk or on several, except the lineup_options_set_* functions, which
 *              must not run concurrently with other use of the same lineup_options.
 *   Durability. With LINEUP_DBMS_FILE and LINEUP_DBMS_SHARED, a call that changes data has
 *              made the change durable when it returns LINEUP_OK (as configured by
 *              lineup_options_set_durability); with LINEUP_DBMS_NONE nothing persists.
 *   Process.   One database connection per process, shared by every lineup_sdk (as in the
 *              Swift SDK): connecting through one makes the collections available through all.
 *
 * ABI.  Functions, constants and the layout of the public structs below keep their meaning
 * for as long as LINEUP_ABI_VERSION is 1. Structs the library returns may grow at the end in
 * later versions; callers never allocate them.
 */
#ifndef LINEUP_H
#define LINEUP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The declarations between LINEUP_DECLARATIONS_BEGIN and LINEUP_DECLARATIONS_END are plain
 * C without preprocessor conditionals or macros in prototypes, so that a binding can read
 * them from this file as they are (cffi's cdef, say). */
/* LINEUP_DECLARATIONS_BEGIN */

#define LINEUP_ABI_VERSION 1

/* Bytes of a UUID as the library writes it: 36 characters (8-4-4-4-12 lowercase hexadecimal
 * digits) and a terminating NUL. */
#define LINEUP_UUID_SIZE 37

/* The largest dimension a vector may have. */
#define LINEUP_MAXIMUM_DIMENSION 4096

/* ---- Status codes ---------------------------------------------------------------------
 * One per case of the Swift ErrorCode, in the order of API.md §1. NEVER renumber: these
 * values are the ABI. The Swift side writes the same numbers out
 * (Sources/LineupC/Status.swift) and Tests/C/test_lineup.c checks that the two agree. */
typedef int32_t lineup_status;

enum lineup_status_code {
    LINEUP_OK = 0,
    LINEUP_DATABASE_CONNECTION_ERROR = 1,   /* the store or server could not be opened or created */
    LINEUP_DATABASE_NOT_CONNECTED = 2,      /* no createDatabaseConnection yet in this process */
    LINEUP_COLLECTION_CREATION_ERROR = 3,   /* a collection could not be created */
    LINEUP_NO_COLLECTION_FOUND = 4,         /* the named collection does not exist */
    LINEUP_COLLECTION_DELETION_ERROR = 5,   /* a collection could not be deleted */
    LINEUP_COLLECTION_NOT_LOADED = 6,       /* exists but not loaded, or none loaded */
    LINEUP_NO_COLLECTION_SPECIFIED = 7,     /* several loaded and none named */
    LINEUP_NO_RECORD_FOUND = 8,             /* no Faceprint has that UUID or identity */
    LINEUP_ENROLLMENT_ERROR = 9,            /* model name or dimension differs from the collection's */
    LINEUP_INPUT_IS_EMPTY = 10,             /* an empty vector, identity or list */
    LINEUP_INVALID_ARGUMENT = 11,           /* malformed or out of range (NULL, NaN, bad UTF-8, ...) */
    LINEUP_FEATURE_NOT_SUPPORTED = 12,      /* not in this build or on this backend */
    LINEUP_CORRUPT_STORE = 13,              /* a file of the store is damaged */
    LINEUP_WRONG_ENCRYPTION_KEY = 14,       /* encrypted store, missing or wrong passphrase */
    LINEUP_STORE_LOCKED = 15,               /* another process holds the store's lock */
    LINEUP_IO_ERROR = 16,                   /* the operating system refused an operation; out of memory */
    LINEUP_READ_ONLY = 17,                  /* opened read-only, or read-only after a failed sync */
    LINEUP_UNSUPPORTED_FORMAT_VERSION = 18  /* written by a newer version of Lineup */
};

/* ---- Option values ---------------------------------------------------------------------- */

enum lineup_dbms {
    LINEUP_DBMS_NONE = 0,        /* memory only; nothing persists */
    LINEUP_DBMS_FILE = 1,        /* on-disk store, single-process semantics (the default) */
    LINEUP_DBMS_SHARED = 2,      /* on-disk store, every connected process follows changes */
    LINEUP_DBMS_POSTGRESQL = 3   /* a PostgreSQL server; LINEUP_FEATURE_NOT_SUPPORTED unless
                                    the library was built with the package trait PostgreSQL */
};

enum lineup_vector_compression {
    LINEUP_COMPRESSION_NONE = 0, /* float32, 4 bytes a dimension */
    LINEUP_COMPRESSION_FP16 = 1, /* IEEE binary16, 2 bytes a dimension */
    LINEUP_COMPRESSION_INT8 = 2  /* 8-bit with a scale a vector, 1 byte a dimension */
};

enum lineup_durability {
    LINEUP_DURABILITY_FULL = 0,          /* acknowledged changes survive a power loss (default) */
    LINEUP_DURABILITY_PROCESS_CRASH = 1  /* they survive a process crash, not a power loss */
};

/* Flags of lineup_identify_matrix. */
enum lineup_identify_flags {
    LINEUP_IDENTIFY_DISTINCT_IDENTITIES = 1  /* each identity at most once, at its best Faceprint */
};

/* ---- Handles ---------------------------------------------------------------------------- */

typedef struct lineup_options lineup_options;   /* the settings of an SDK (ConfigurationOptions) */
typedef struct lineup_sdk lineup_sdk;           /* an SDK instance */

/* ---- Results (allocated by the library, released by their lineup_free_* function) -------- */

/* The candidates of one identification call, for P probes in a dense P × columns layout.
 *
 * Probe i has counts[i] candidates (0 when none reached the threshold), best first, in slots
 * i * columns + 0 ... i * columns + counts[i] - 1 of every array below. `columns` is the
 * largest count of any probe (0 when none matched). Slots past a probe's count hold NaN in
 * the float arrays, NULL in the pointer arrays and 37 NUL bytes in uuid_text.
 *
 * uuid_text holds every slot's UUID at a fixed stride of LINEUP_UUID_SIZE bytes, and
 * identity_text the identities of the filled slots, row by row, each ending in its NUL
 * (identity_text_size bytes in all); uuids[] and identities[] point into them. Both forms
 * are there so that bindings can read all strings in one copy.
 *
 * Released by lineup_free_matches. Immutable: may be read from any thread. */
typedef struct lineup_matches {
    size_t probe_count;
    size_t columns;
    const size_t *counts;                 /* probe_count entries */
    const float *similarity_measures;     /* probe_count * columns: cosine similarity, [-1, 1] */
    const float *match_probabilities;     /* probe_count * columns: [0, 1] */
    const char *const *uuids;             /* probe_count * columns */
    const char *const *identities;        /* probe_count * columns */
    const char *uuid_text;                /* probe_count * columns * LINEUP_UUID_SIZE bytes */
    const char *identity_text;            /* identity_text_size bytes */
    size_t identity_text_size;
} lineup_matches;

/* A list of strings (collection names, sorted). Released by lineup_free_string_list. */
typedef struct lineup_string_list {
    size_t count;
    const char *const *items;
} lineup_string_list;

/* UUID → identity for every Faceprint of a collection, sorted by UUID; several UUIDs may share
 * an identity. Released by lineup_free_identity_list. */
typedef struct lineup_identity_list {
    size_t count;
    const char *const *uuids;
    const char *const *identities;
} lineup_identity_list;

/* What a collection holds. Released by lineup_free_collection_metadata. */
typedef struct lineup_collection_metadata {
    const char *collection_name;
    int32_t encrypted;                  /* 1 when the store is encrypted at rest, else 0 */
    size_t feature_vector_size_bytes;   /* stored bytes a vector; 0 until the dimension is known */
    const char *model_name;
    const char *model_options;          /* JSON naming the vector compression at least */
    size_t num_faceprints;              /* live (not removed) Faceprints */
    size_t num_identities;              /* distinct identities among them */
} lineup_collection_metadata;

/* ---- The library ------------------------------------------------------------------------ */

/* The library's version, e.g. "1.0.0". Static storage; never freed. Thread-safe. */
const char *lineup_version(void);

/* The ErrorCode name of a status ("noRecordFound"; "ok" for LINEUP_OK), or NULL for a
 * number that is no status. Static storage; never freed. Thread-safe. */
const char *lineup_status_name(lineup_status status);

/* The message of the calling thread's last call that failed; "" when the last call succeeded
 * or none was made. Owned by the library and valid until the calling thread's next call
 * into the library (or its exit): copy it to keep it. Per thread, so never torn by others. */
const char *lineup_last_error_message(void);

/* ---- Options ------------------------------------------------------------------------------
 * A lineup_options starts with the defaults of ConfigurationOptions: LINEUP_DBMS_FILE, model
 * "TFV5_2", no compression, no encryption, check interval from DB_NOTIFICATION_CHECK_FREQUENCY
 * (else 30 s), writable, LINEUP_DURABILITY_FULL, automatic compaction on. lineup_sdk_create
 * copies it: changing it later does not change an SDK made from it. Not thread-safe: set it
 * from one thread, then share it read-only (lineup_sdk_create only reads it). */

/* Makes options with the defaults into *out_options. Release with lineup_options_free. */
lineup_status lineup_options_create(lineup_options **out_options);
/* Releases options (NULL: nothing). SDKs made from them are unaffected. */
void lineup_options_free(lineup_options *options);

/* One of enum lineup_dbms; another value gives LINEUP_INVALID_ARGUMENT. */
lineup_status lineup_options_set_dbms(lineup_options *options, int32_t dbms);
/* The model name new collections record (1–255 bytes of UTF-8; checked at creation). */
lineup_status lineup_options_set_fr_model(lineup_options *options, const char *model_name);
/* One of enum lineup_vector_compression, recorded by new collections. */
lineup_status lineup_options_set_vector_compression(lineup_options *options, int32_t compression);
/* The passphrase of an encrypted store; NULL: not encrypted. The library keeps a copy; the
 * caller may wipe its own as soon as this returns. */
lineup_status lineup_options_set_encryption_key(lineup_options *options, const char *passphrase);
/* Seconds between change checks in shared mode; 0 restores the default (the environment
 * variable, else 30). Other values outside 0.001 ... 31,536,000 make the connection fail with
 * LINEUP_INVALID_ARGUMENT. */
lineup_status lineup_options_set_notification_check_interval(lineup_options *options, double seconds);
/* Nonzero: open the store without writing a byte; every change gives LINEUP_READ_ONLY. */
lineup_status lineup_options_set_read_only(lineup_options *options, int32_t read_only);
/* One of enum lineup_durability. */
lineup_status lineup_options_set_durability(lineup_options *options, int32_t durability);
/* Nonzero (the default): a writable store compacts on its own in the background. */
lineup_status lineup_options_set_automatic_compaction(lineup_options *options, int32_t enabled);

/* ---- SDK -------------------------------------------------------------------------------- */

/* Makes an SDK with a copy of `options` (NULL: the defaults) into *out_sdk. Release with
 * lineup_sdk_free. Cheap: the connection is the process's, not the SDK's. */
lineup_status lineup_sdk_create(const lineup_options *options, lineup_sdk **out_sdk);
/* Releases an SDK (NULL: nothing). The process's connection and loaded collections stay for
 * the other SDKs. Must not run while another thread is still using this SDK. */
void lineup_sdk_free(lineup_sdk *sdk);

/* ---- Database and collections ------------------------------------------------------------ */

/* Connects the process to a database with this SDK's options, replacing (and unloading) the
 * previous connection. File and shared stores: the path of the store directory, created
 * when missing (its parent must exist). LINEUP_DBMS_NONE: the string is ignored (may be
 * NULL). Errors: LINEUP_DATABASE_CONNECTION_ERROR, LINEUP_WRONG_ENCRYPTION_KEY,
 * LINEUP_CORRUPT_STORE, LINEUP_FEATURE_NOT_SUPPORTED; the previous connection then stays. */
lineup_status lineup_create_database_connection(lineup_sdk *sdk, const char *connection_string);

/* Creates the collection (a no-op when it exists) and loads it. Durable on return. */
lineup_status lineup_create_load_collection(lineup_sdk *sdk, const char *collection_name);
/* Creates an empty collection recording this SDK's model and compression; a no-op when it
 * exists. Durable on return. */
lineup_status lineup_create_collection(lineup_sdk *sdk, const char *collection_name);
/* Loads a collection for every SDK of the process (again, when loaded). */
lineup_status lineup_load_collection(lineup_sdk *sdk, const char *collection_name);
/* Loads `count` collections, all or none (count 0: LINEUP_INPUT_IS_EMPTY). */
lineup_status lineup_load_collections(lineup_sdk *sdk, const char *const *collection_names, size_t count);
/* Deletes a collection and every Faceprint in it, unloading it first. Durable on return. */
lineup_status lineup_delete_collection(lineup_sdk *sdk, const char *collection_name);

/* The names of every collection, sorted, into *out_names; release with
 * lineup_free_string_list. */
lineup_status lineup_get_collection_names(lineup_sdk *sdk, lineup_string_list **out_names);
/* A collection's metadata, loaded or not, into *out_metadata; release with
 * lineup_free_collection_metadata. */
lineup_status lineup_get_collection_metadata(lineup_sdk *sdk, const char *collection_name,
                                             lineup_collection_metadata **out_metadata);
/* UUID → identity of a collection, loaded or not, into *out_identities; release with
 * lineup_free_identity_list. */
lineup_status lineup_get_collection_identities(lineup_sdk *sdk, const char *collection_name,
                                               lineup_identity_list **out_identities);

/* ---- Enrollment and removal ------------------------------------------------------------- */

/* Enrolls one Faceprint (vector[0 ... dimension-1] of model `model_name`, NULL: "TFV5_2")
 * under `identity` and writes its new UUID, NUL-terminated, into out_uuid (LINEUP_UUID_SIZE
 * bytes; may be NULL when not wanted). Stored L2-normalised, in the collection's compression;
 * the first Faceprint fixes the collection's dimension. Durable on return. */
lineup_status lineup_enroll_faceprint(lineup_sdk *sdk, const float *vector, size_t dimension,
                                      const char *model_name, const char *identity,
                                      const char *collection_name, char *out_uuid);

/* Enrolls `rows` Faceprints at once, all or none: row i of the contiguous rows × dimension
 * `matrix` under the i-th identity of `identities`, which holds `rows` NUL-terminated UTF-8
 * strings back to back (identities_size bytes in all, the last NUL included; a count that
 * differs from `rows` gives LINEUP_INVALID_ARGUMENT). Writes the UUIDs into out_uuids, row i's
 * at out_uuids + i * LINEUP_UUID_SIZE (rows * LINEUP_UUID_SIZE bytes; may be NULL). One
 * journal record (or new segment files, from 4,096 rows): durable together on return. */
lineup_status lineup_enroll_faceprints(lineup_sdk *sdk, const float *matrix, size_t rows, size_t dimension,
                                       const char *model_name, const char *identities, size_t identities_size,
                                       const char *collection_name, char *out_uuids);

/* Removes the Faceprint with this UUID. Durable on return. */
lineup_status lineup_remove_by_uuid(lineup_sdk *sdk, const char *uuid, const char *collection_name);
/* Removes every Faceprint of `identity`; how many into *out_removed (may be NULL). Durable
 * on return. */
lineup_status lineup_remove_by_identity(lineup_sdk *sdk, const char *identity, const char *collection_name,
                                        size_t *out_removed);

/* ---- Identification ----------------------------------------------------------------------
 * Cosine similarity of the probe and each stored vector; a candidate matches when its
 * similarity is at least `threshold` (finite). Best first, ties by enrollment order. Each
 * call works on one snapshot of the collection and never waits for writers. The probe's model
 * (`model_name`, NULL: "TFV5_2") and dimension must be the collection's
 * (LINEUP_INVALID_ARGUMENT otherwise). Results into *out_matches; release with
 * lineup_free_matches. */

/* The best match of one probe: probe_count 1, counts[0] 0 or 1. */
lineup_status lineup_identify_top_candidate(lineup_sdk *sdk, const float *vector, size_t dimension,
                                            const char *model_name, float threshold,
                                            const char *collection_name, lineup_matches **out_matches);
/* Up to num_candidates (≥ 1) matches of one probe. */
lineup_status lineup_identify_top_candidates(lineup_sdk *sdk, const float *vector, size_t dimension,
                                             const char *model_name, size_t num_candidates, float threshold,
                                             const char *collection_name, lineup_matches **out_matches);
/* Up to num_candidates (≥ 1) people: each identity at most once, at its best Faceprint. */
lineup_status lineup_identify_top_identities(lineup_sdk *sdk, const float *vector, size_t dimension,
                                             const char *model_name, size_t num_candidates, float threshold,
                                             const char *collection_name, lineup_matches **out_matches);
/* The best match of each of `count` probes (vectors[i] has `dimension` floats), in order,
 * run in parallel; count 0 gives probe_count 0. */
lineup_status lineup_batch_identify_top_candidate(lineup_sdk *sdk, const float *const *vectors, size_t count,
                                                  size_t dimension, const char *model_name, float threshold,
                                                  const char *collection_name, lineup_matches **out_matches);
/* Up to num_candidates (≥ 1) matches of each row of the contiguous rows × dimension matrix,
 * in order, run in parallel over one snapshot; `flags` 0 or LINEUP_IDENTIFY_DISTINCT_IDENTITIES
 * (other bits: LINEUP_INVALID_ARGUMENT). rows 0 gives probe_count 0. */
lineup_status lineup_identify_matrix(lineup_sdk *sdk, const float *matrix, size_t rows, size_t dimension,
                                     const char *model_name, size_t num_candidates, float threshold,
                                     uint32_t flags, const char *collection_name, lineup_matches **out_matches);

/* ---- Maintenance ---------------------------------------------------------------------- */

/* Compacts the connected store: segments of `collection_name` (NULL: every collection)
 * holding removed Faceprints are rewritten without them. When it returns, no Faceprint
 * removed before the call is in any file of the store. Enrollment and identification go
 * on meanwhile. A no-op in memory. */
lineup_status lineup_compact(lineup_sdk *sdk, const char *collection_name);
/* Changes the connected encrypted store's passphrase (atomically: after a crash the store
 * opens with the old passphrase or the new one). Connections made later need the new one. */
lineup_status lineup_rekey(lineup_sdk *sdk, const char *new_passphrase);
/* A consistent point-in-time copy of the connected store into the new directory `path`
 * (which must not exist; its parent must), taken while others keep writing; every file of
 * the copy is synced before this returns. LINEUP_FEATURE_NOT_SUPPORTED in memory. */
lineup_status lineup_backup(lineup_sdk *sdk, const char *path);

/* ---- Releasing results (NULL: nothing; each result exactly once) ------------------------ */

void lineup_free_matches(lineup_matches *matches);
void lineup_free_string_list(lineup_string_list *list);
void lineup_free_identity_list(lineup_identity_list *list);
void lineup_free_collection_metadata(lineup_collection_metadata *metadata);

/* LINEUP_DECLARATIONS_END */

#ifdef __cplusplus
}
#endif

#endif /* LINEUP_H */
