/* The C interface end to end: built with cc -Wall -Werror against Bindings/C/include/lineup.h,
 * linked to liblineup.so (make test-c). Every call of the header, the status of each bad
 * input, the status numbers against the library's names, threads identifying at once, and a
 * file store reopened and backed up. Exits 0 when everything holds; prints each failure. */
#include <lineup.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(condition) do { \
    if (!(condition)) { \
        fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #condition, \
                lineup_last_error_message()); \
        failures++; \
    } \
} while (0)

#define EXPECT(call, status) do { \
    lineup_status got_ = (call); \
    if (got_ != (status)) { \
        fprintf(stderr, "%s:%d: %s gave %s (%d), expected %s; message: %s\n", __FILE__, __LINE__, #call, \
                lineup_status_name(got_) ? lineup_status_name(got_) : "?", (int)got_, #status, \
                lineup_last_error_message()); \
        failures++; \
    } \
} while (0)

enum { DIMENSION = 16, ROWS = 40 };

static float gallery[ROWS][DIMENSION];

/* A deterministic pseudo-random gallery: ROWS vectors, identity i / 4. */
static void make_gallery(void) {
    unsigned state = 12345;
    for (int row = 0; row < ROWS; row++)
        for (int column = 0; column < DIMENSION; column++) {
            state = state * 1103515245u + 12345u;
            gallery[row][column] = (float)((state >> 8) % 2001) / 1000.0f - 1.0f;
        }
}

static void check_status_numbers(void) {
    /* The numbers of the header against the names the library gives them: the two sides of
     * the ABI agree, and none is renumbered. */
    static const struct { lineup_status status; const char *name; } expected[] = {
        {LINEUP_OK, "ok"},
        {LINEUP_DATABASE_CONNECTION_ERROR, "databaseConnectionError"},
        {LINEUP_DATABASE_NOT_CONNECTED, "databaseNotConnected"},
        {LINEUP_COLLECTION_CREATION_ERROR, "collectionCreationError"},
        {LINEUP_NO_COLLECTION_FOUND, "noCollectionFound"},
        {LINEUP_COLLECTION_DELETION_ERROR, "collectionDeletionError"},
        {LINEUP_COLLECTION_NOT_LOADED, "collectionNotLoaded"},
        {LINEUP_NO_COLLECTION_SPECIFIED, "noCollectionSpecified"},
        {LINEUP_NO_RECORD_FOUND, "noRecordFound"},
        {LINEUP_ENROLLMENT_ERROR, "enrollmentError"},
        {LINEUP_INPUT_IS_EMPTY, "inputIsEmpty"},
        {LINEUP_INVALID_ARGUMENT, "invalidArgument"},
        {LINEUP_FEATURE_NOT_SUPPORTED, "featureNotSupported"},
        {LINEUP_CORRUPT_STORE, "corruptStore"},
        {LINEUP_WRONG_ENCRYPTION_KEY, "wrongEncryptionKey"},
        {LINEUP_STORE_LOCKED, "storeLocked"},
        {LINEUP_IO_ERROR, "ioError"},
        {LINEUP_READ_ONLY, "readOnly"},
        {LINEUP_UNSUPPORTED_FORMAT_VERSION, "unsupportedFormatVersion"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        CHECK(expected[i].status == (lineup_status)i);
        const char *name = lineup_status_name(expected[i].status);
        CHECK(name != NULL && strcmp(name, expected[i].name) == 0);
    }
    CHECK(lineup_status_name(19) == NULL);
    CHECK(lineup_status_name(-1) == NULL);
    CHECK(strncmp(lineup_version(), "1.", 2) == 0);
}

static void check_options(lineup_options *options) {
    EXPECT(lineup_options_set_dbms(options, 9), LINEUP_INVALID_ARGUMENT);
    CHECK(strlen(lineup_last_error_message()) > 0);
    EXPECT(lineup_options_set_dbms(NULL, LINEUP_DBMS_NONE), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_set_vector_compression(options, 7), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_set_durability(options, -1), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_set_fr_model(options, ""), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_set_fr_model(options, "\xff\xfe"), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_set_notification_check_interval(options, NAN), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_set_fr_model(options, "TFV5_2"), LINEUP_OK);
    CHECK(strlen(lineup_last_error_message()) == 0);
    EXPECT(lineup_options_set_read_only(options, 0), LINEUP_OK);
    EXPECT(lineup_options_set_automatic_compaction(options, 1), LINEUP_OK);
    EXPECT(lineup_options_set_durability(options, LINEUP_DURABILITY_FULL), LINEUP_OK);
    EXPECT(lineup_options_set_encryption_key(options, NULL), LINEUP_OK);
    EXPECT(lineup_sdk_create(options, NULL), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_options_create(NULL), LINEUP_INVALID_ARGUMENT);
}

/* Cosine similarity in double, the reference for the library's float answers. */
static double cosine(const float *a, const float *b) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < DIMENSION; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
    return dot / sqrt(na * nb);
}

static char uuids[ROWS][LINEUP_UUID_SIZE];

static void enroll_gallery(lineup_sdk *sdk) {
    EXPECT(lineup_create_load_collection(sdk, "staff"), LINEUP_OK);
    /* One at a time for the first row, then the rest in one call. */
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION, NULL, "person-0", NULL, uuids[0]), LINEUP_OK);
    CHECK(strlen(uuids[0]) == 36);
    char identities[ROWS * 16];
    size_t size = 0;
    for (int row = 1; row < ROWS; row++) size += (size_t)sprintf(identities + size, "person-%d", row / 4) + 1;
    char many[ROWS - 1][LINEUP_UUID_SIZE];
    EXPECT(lineup_enroll_faceprints(sdk, &gallery[1][0], ROWS - 1, DIMENSION, "TFV5_2", identities, size, "staff", &many[0][0]),
           LINEUP_OK);
    for (int row = 1; row < ROWS; row++) memcpy(uuids[row], many[row - 1], LINEUP_UUID_SIZE);
    CHECK(strcmp(uuids[1], uuids[2]) != 0);
}

static void check_bad_enrollments(lineup_sdk *sdk) {
    float zeros[DIMENSION] = {0};
    float nans[DIMENSION];
    for (int i = 0; i < DIMENSION; i++) nans[i] = NAN;
    char uuid[LINEUP_UUID_SIZE];
    EXPECT(lineup_enroll_faceprint(sdk, NULL, DIMENSION, NULL, "x", NULL, uuid), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprint(sdk, zeros, DIMENSION, NULL, "x", NULL, uuid), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprint(sdk, nans, DIMENSION, NULL, "x", NULL, uuid), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], 0, NULL, "x", NULL, uuid), LINEUP_INPUT_IS_EMPTY);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], 100000, NULL, "x", NULL, uuid), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION - 1, NULL, "x", NULL, uuid), LINEUP_ENROLLMENT_ERROR);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION, "other", "x", NULL, uuid), LINEUP_ENROLLMENT_ERROR);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION, NULL, "", NULL, uuid), LINEUP_INPUT_IS_EMPTY);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION, NULL, NULL, NULL, uuid), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION, NULL, "\xc3\x28", NULL, uuid), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprint(sdk, gallery[0], DIMENSION, NULL, "x", "missing", uuid), LINEUP_NO_COLLECTION_FOUND);
    EXPECT(lineup_enroll_faceprint(NULL, gallery[0], DIMENSION, NULL, "x", NULL, uuid), LINEUP_INVALID_ARGUMENT);
    /* Batches: the identity count must match, all or none. */
    EXPECT(lineup_enroll_faceprints(sdk, &gallery[0][0], 2, DIMENSION, NULL, "a\0", 2, NULL, NULL), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprints(sdk, &gallery[0][0], 2, DIMENSION, NULL, "a\0b", 3, NULL, NULL), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprints(sdk, &gallery[0][0], (size_t)1 << 62, DIMENSION, NULL, "a", 2, NULL, NULL),
           LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_enroll_faceprints(sdk, &gallery[0][0], 0, DIMENSION, NULL, "a", 2, NULL, NULL), LINEUP_INPUT_IS_EMPTY);
    float mixed[2][DIMENSION];
    memcpy(mixed[0], gallery[0], sizeof mixed[0]);
    memcpy(mixed[1], zeros, sizeof mixed[1]);
    EXPECT(lineup_enroll_faceprints(sdk, &mixed[0][0], 2, DIMENSION, NULL, "a\0b", 4, NULL, NULL), LINEUP_INVALID_ARGUMENT);
}

static void check_identification(lineup_sdk *sdk) {
    lineup_matches *matches = NULL;
    /* The top candidate of every stored vector is itself. */
    for (int row = 0; row < ROWS; row++) {
        EXPECT(lineup_identify_top_candidate(sdk, gallery[row], DIMENSION, NULL, 0.4f, "staff", &matches), LINEUP_OK);
        CHECK(matches->probe_count == 1 && matches->counts[0] == 1);
        CHECK(strcmp(matches->uuids[0], uuids[row]) == 0);
        CHECK(fabsf(matches->similarity_measures[0] - 1.0f) < 1e-5f);
        CHECK(matches->match_probabilities[0] >= 0 && matches->match_probabilities[0] <= 1);
        lineup_free_matches(matches);
    }
    /* Top 5 at threshold -1: the five most similar, best first, scores as cosine gives them. */
    EXPECT(lineup_identify_top_candidates(sdk, gallery[3], DIMENSION, NULL, 5, -1.0f, NULL, &matches), LINEUP_OK);
    CHECK(matches->counts[0] == 5 && matches->columns == 5);
    for (size_t i = 0; i < 5; i++) {
        int row = -1;
        for (int r = 0; r < ROWS; r++) if (strcmp(uuids[r], matches->uuids[i]) == 0) row = r;
        CHECK(row >= 0);
        if (row >= 0) CHECK(fabs(cosine(gallery[3], gallery[row]) - matches->similarity_measures[i]) < 1e-5);
        if (i > 0) CHECK(matches->similarity_measures[i] <= matches->similarity_measures[i - 1]);
        CHECK(memcmp(matches->uuid_text + i * LINEUP_UUID_SIZE, matches->uuids[i], LINEUP_UUID_SIZE) == 0);
    }
    lineup_free_matches(matches);
    /* People: each identity once. */
    EXPECT(lineup_identify_top_identities(sdk, gallery[3], DIMENSION, NULL, 8, -1.0f, NULL, &matches), LINEUP_OK);
    CHECK(matches->counts[0] == 8);
    for (size_t i = 0; i < matches->counts[0]; i++)
        for (size_t j = 0; j < i; j++) CHECK(strcmp(matches->identities[i], matches->identities[j]) != 0);
    lineup_free_matches(matches);
    /* A batch and a matrix give what the single calls give. */
    const float *probes[3] = {gallery[5], gallery[9], gallery[30]};
    EXPECT(lineup_batch_identify_top_candidate(sdk, probes, 3, DIMENSION, NULL, 0.4f, NULL, &matches), LINEUP_OK);
    CHECK(matches->probe_count == 3);
    CHECK(strcmp(matches->uuids[0 * matches->columns], uuids[5]) == 0);
    CHECK(strcmp(matches->uuids[2 * matches->columns], uuids[30]) == 0);
    lineup_free_matches(matches);
    EXPECT(lineup_identify_matrix(sdk, &gallery[10][0], 4, DIMENSION, NULL, 3, 0.99f, 0, NULL, &matches), LINEUP_OK);
    CHECK(matches->probe_count == 4);
    for (size_t probe = 0; probe < 4; probe++) {
        CHECK(matches->counts[probe] >= 1);
        CHECK(strcmp(matches->uuids[probe * matches->columns], uuids[10 + probe]) == 0);
        for (size_t slot = matches->counts[probe]; slot < matches->columns; slot++) {
            CHECK(matches->uuids[probe * matches->columns + slot] == NULL);
            CHECK(isnan(matches->similarity_measures[probe * matches->columns + slot]));
        }
    }
    lineup_free_matches(matches);
    EXPECT(lineup_identify_matrix(sdk, &gallery[0][0], 2, DIMENSION, NULL, 4, -1.0f, LINEUP_IDENTIFY_DISTINCT_IDENTITIES, NULL,
                                  &matches), LINEUP_OK);
    lineup_free_matches(matches);
    EXPECT(lineup_identify_matrix(sdk, &gallery[0][0], 0, DIMENSION, NULL, 1, 0.4f, 0, NULL, &matches), LINEUP_OK);
    CHECK(matches->probe_count == 0);
    lineup_free_matches(matches);
    /* Bad input: nothing written to out_matches. */
    matches = NULL;
    EXPECT(lineup_identify_matrix(sdk, &gallery[0][0], 2, DIMENSION, NULL, 1, 0.4f, 8, NULL, &matches), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_identify_top_candidates(sdk, gallery[0], DIMENSION, NULL, 0, 0.4f, NULL, &matches), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_identify_top_candidate(sdk, gallery[0], DIMENSION, NULL, NAN, NULL, &matches), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_identify_top_candidate(sdk, gallery[0], DIMENSION - 2, NULL, 0.4f, NULL, &matches), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_identify_top_candidate(sdk, gallery[0], DIMENSION, "other", 0.4f, NULL, &matches), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_identify_top_candidate(sdk, gallery[0], DIMENSION, NULL, 0.4f, NULL, NULL), LINEUP_INVALID_ARGUMENT);
    CHECK(matches == NULL);
    lineup_free_matches(NULL);
}

static void check_collections(lineup_sdk *sdk) {
    lineup_string_list *names = NULL;
    EXPECT(lineup_get_collection_names(sdk, &names), LINEUP_OK);
    CHECK(names->count == 1 && strcmp(names->items[0], "staff") == 0);
    lineup_free_string_list(names);
    lineup_collection_metadata *metadata = NULL;
    EXPECT(lineup_get_collection_metadata(sdk, "staff", &metadata), LINEUP_OK);
    CHECK(metadata->num_faceprints == ROWS && metadata->num_identities == ROWS / 4);
    CHECK(strcmp(metadata->model_name, "TFV5_2") == 0 && strcmp(metadata->collection_name, "staff") == 0);
    CHECK(metadata->feature_vector_size_bytes == DIMENSION * 4 && metadata->encrypted == 0);
    lineup_free_collection_metadata(metadata);
    EXPECT(lineup_get_collection_metadata(sdk, "missing", &metadata), LINEUP_NO_COLLECTION_FOUND);
    lineup_identity_list *identities = NULL;
    EXPECT(lineup_get_collection_identities(sdk, "staff", &identities), LINEUP_OK);
    CHECK(identities->count == ROWS);
    for (size_t i = 1; i < identities->count; i++) CHECK(strcmp(identities->uuids[i - 1], identities->uuids[i]) < 0);
    lineup_free_identity_list(identities);
    const char *loading[] = {"staff"};
    EXPECT(lineup_load_collections(sdk, loading, 1), LINEUP_OK);
    EXPECT(lineup_load_collections(sdk, loading, 0), LINEUP_INPUT_IS_EMPTY);
    EXPECT(lineup_load_collection(sdk, "missing"), LINEUP_NO_COLLECTION_FOUND);
    EXPECT(lineup_create_collection(sdk, "other"), LINEUP_OK);
    EXPECT(lineup_load_collection(sdk, "other"), LINEUP_OK);
    /* Two loaded: an unnamed collection is ambiguous. */
    lineup_matches *matches = NULL;
    EXPECT(lineup_identify_top_candidate(sdk, gallery[0], DIMENSION, NULL, 0.4f, NULL, &matches), LINEUP_NO_COLLECTION_SPECIFIED);
    EXPECT(lineup_delete_collection(sdk, "other"), LINEUP_OK);
    EXPECT(lineup_delete_collection(sdk, "other"), LINEUP_NO_COLLECTION_FOUND);
}

static void check_removal(lineup_sdk *sdk) {
    size_t removed = 0;
    EXPECT(lineup_remove_by_uuid(sdk, uuids[0], NULL), LINEUP_OK);
    EXPECT(lineup_remove_by_uuid(sdk, uuids[0], NULL), LINEUP_NO_RECORD_FOUND);
    EXPECT(lineup_remove_by_uuid(sdk, "not-a-uuid", NULL), LINEUP_NO_RECORD_FOUND);
    EXPECT(lineup_remove_by_identity(sdk, "person-2", NULL, &removed), LINEUP_OK);
    CHECK(removed == 4);
    EXPECT(lineup_remove_by_identity(sdk, "person-2", NULL, &removed), LINEUP_NO_RECORD_FOUND);
    CHECK(removed == 4);
    lineup_collection_metadata *metadata = NULL;
    EXPECT(lineup_get_collection_metadata(sdk, "staff", &metadata), LINEUP_OK);
    CHECK(metadata->num_faceprints == ROWS - 5);
    lineup_free_collection_metadata(metadata);
}

struct worker { lineup_sdk *sdk; int first; int errors; };

static void *identify_in_thread(void *argument) {
    struct worker *worker = argument;
    for (int round = 0; round < 200; round++) {
        int row = (worker->first + round) % ROWS;
        lineup_matches *matches = NULL;
        if (lineup_identify_top_candidate(worker->sdk, gallery[row], DIMENSION, NULL, 0.4f, "staff", &matches) != LINEUP_OK) {
            worker->errors++;
            continue;
        }
        if (matches->counts[0] != 1 || strcmp(matches->uuids[0], uuids[row]) != 0) worker->errors++;
        lineup_free_matches(matches);
        /* A failure on this thread leaves its own message, not another thread's. */
        if (lineup_identify_top_candidate(worker->sdk, gallery[row], 3, NULL, 0.4f, "staff", &matches) != LINEUP_INVALID_ARGUMENT
            || strstr(lineup_last_error_message(), "dimensions") == NULL) worker->errors++;
    }
    return NULL;
}

static void check_threads(lineup_sdk *sdk) {
    pthread_t threads[4];
    struct worker workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (struct worker){sdk, i * 7, 0};
        CHECK(pthread_create(&threads[i], NULL, identify_in_thread, &workers[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].errors == 0);
    }
}

static void check_file_store(lineup_options *options, const char *directory) {
    char store[4096], copy[4096];
    snprintf(store, sizeof store, "%s/store", directory);
    snprintf(copy, sizeof copy, "%s/copy", directory);
    EXPECT(lineup_options_set_dbms(options, LINEUP_DBMS_FILE), LINEUP_OK);
    EXPECT(lineup_options_set_vector_compression(options, LINEUP_COMPRESSION_FP16), LINEUP_OK);
    lineup_sdk *sdk = NULL;
    EXPECT(lineup_sdk_create(options, &sdk), LINEUP_OK);
    EXPECT(lineup_create_database_connection(sdk, "/nonexistent/dir/store"), LINEUP_DATABASE_CONNECTION_ERROR);
    EXPECT(lineup_create_database_connection(sdk, store), LINEUP_OK);
    enroll_gallery(sdk);
    check_removal(sdk);
    EXPECT(lineup_compact(sdk, NULL), LINEUP_OK);
    EXPECT(lineup_compact(sdk, "staff"), LINEUP_OK);
    EXPECT(lineup_backup(sdk, copy), LINEUP_OK);
    EXPECT(lineup_backup(sdk, copy), LINEUP_INVALID_ARGUMENT);
    EXPECT(lineup_rekey(sdk, "new passphrase"), LINEUP_INVALID_ARGUMENT);   /* not an encrypted store */
    /* The backup opens on its own and holds what the store held. */
    lineup_sdk *reader = NULL;
    EXPECT(lineup_sdk_create(options, &reader), LINEUP_OK);
    EXPECT(lineup_create_database_connection(reader, copy), LINEUP_OK);
    EXPECT(lineup_load_collection(reader, "staff"), LINEUP_OK);
    lineup_collection_metadata *metadata = NULL;
    EXPECT(lineup_get_collection_metadata(reader, "staff", &metadata), LINEUP_OK);
    CHECK(metadata->num_faceprints == ROWS - 5 && metadata->feature_vector_size_bytes == DIMENSION * 2);
    lineup_free_collection_metadata(metadata);
    lineup_matches *matches = NULL;
    EXPECT(lineup_identify_top_candidate(reader, gallery[7], DIMENSION, NULL, 0.9f, NULL, &matches), LINEUP_OK);
    CHECK(matches->counts[0] == 1 && strcmp(matches->uuids[0], uuids[7]) == 0);
    lineup_free_matches(matches);
    lineup_sdk_free(reader);
    lineup_sdk_free(sdk);
}

int main(int argc, char **argv) {
    const char *directory = argc > 1 ? argv[1] : NULL;
    make_gallery();
    check_status_numbers();
    lineup_options *options = NULL;
    EXPECT(lineup_options_create(&options), LINEUP_OK);
    check_options(options);

    lineup_sdk *sdk = NULL;
    EXPECT(lineup_sdk_create(NULL, &sdk), LINEUP_OK);
    /* No connection yet (the default is the file store). */
    EXPECT(lineup_create_load_collection(sdk, "staff"), LINEUP_DATABASE_NOT_CONNECTED);
    lineup_sdk_free(sdk);

    EXPECT(lineup_options_set_dbms(options, LINEUP_DBMS_NONE), LINEUP_OK);
    EXPECT(lineup_sdk_create(options, &sdk), LINEUP_OK);
    EXPECT(lineup_create_database_connection(sdk, NULL), LINEUP_OK);
    EXPECT(lineup_backup(sdk, "/tmp/never"), LINEUP_FEATURE_NOT_SUPPORTED);
    enroll_gallery(sdk);
    check_bad_enrollments(sdk);
    check_identification(sdk);
    check_collections(sdk);
    check_threads(sdk);
    check_removal(sdk);
    lineup_sdk_free(sdk);
    lineup_sdk_free(NULL);

    if (directory) check_file_store(options, directory);
    lineup_options_free(options);
    lineup_options_free(NULL);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("test_lineup: all checks passed\n");
    return 0;
}
