/*
 * raw_lmdb: the ceiling for tools/bench log. Appends the records qsm-bench exported, with plain LMDB
 * (one database, MDB_APPEND, no chain, no indexes) in durable transactions of BATCH records, and prints
 * "raw-lmdb: <events/s> (<n> events, <batch> per transaction)".
 *
 * usage: raw_lmdb RECORDS_FILE DIRECTORY [BATCH]
 */
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                                  \
    do {                                                                             \
        int rc_ = (call);                                                            \
        if (rc_) {                                                                   \
            fprintf(stderr, "raw_lmdb: %s: %s\n", #call, mdb_strerror(rc_));         \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: raw_lmdb RECORDS_FILE DIRECTORY [BATCH]\n");
        return 64;
    }
    size_t batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
    if (batch == 0) batch = 64;
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
    if (!data || fread(data, 1, (size_t)size, in) != (size_t)size) { fprintf(stderr, "raw_lmdb: cannot read %s\n", argv[1]); return 1; }
    fclose(in);

    /* Index the records: u32 little-endian length, then the bytes. */
    size_t count = 0, capacity = 1024;
    MDB_val *records = malloc(capacity * sizeof *records);
    for (long offset = 0; offset + 4 <= size;) {
        uint32_t length = (uint32_t)data[offset] | (uint32_t)data[offset + 1] << 8 |
                          (uint32_t)data[offset + 2] << 16 | (uint32_t)data[offset + 3] << 24;
        offset += 4;
        if (offset + (long)length > size) { fprintf(stderr, "raw_lmdb: truncated records file\n"); return 1; }
        if (count == capacity) records = realloc(records, (capacity *= 2) * sizeof *records);
        records[count].mv_size = length;
        records[count].mv_data = data + offset;
        count++;
        offset += length;
    }

    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, (size_t)4 << 30));
    CHECK(mdb_env_set_maxdbs(env, 4));
    CHECK(mdb_env_open(env, argv[2], 0, 0600));
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "events", MDB_CREATE, &dbi));
    CHECK(mdb_txn_commit(txn));

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (size_t first = 0; first < count; first += batch) {
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (size_t i = first; i < first + batch && i < count; i++) {
            uint64_t position = i + 1;
            unsigned char key[8];
            for (int b = 0; b < 8; b++) key[b] = (unsigned char)(position >> (56 - 8 * b));
            MDB_val k = {sizeof key, key};
            CHECK(mdb_put(txn, dbi, &k, &records[i], MDB_APPEND));
        }
        CHECK(mdb_txn_commit(txn));
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("raw-lmdb: %.0f events/s (%zu events, %zu per transaction)\n", (double)count / seconds, count, batch);
    mdb_env_close(env);
    free(records);
    free(data);
    return 0;
}
