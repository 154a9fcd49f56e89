// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of every journal record,
// segment section and manifest (FORMAT.md, "Checksums"). Hardware (SSE4.2) where the CPU has
// it, table-driven (slicing by 8) elsewhere; both give identical results.
#include "LineupKernels.h"

#include <pthread.h>
#include <string.h>

static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        crc_table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        for (int t = 1; t < 8; t++) {
            crc_table[t][n] = (crc_table[t - 1][n] >> 8) ^ crc_table[0][crc_table[t - 1][n] & 0xFF];
        }
    }
}

uint32_t lineup_crc32c_serial(uint32_t crc, const void *data, size_t length) {
    pthread_once(&crc_table_once, crc_build_table);
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;   // little-endian hosts only: Lineup's supported platforms
        crc = crc_table[7][word & 0xFF] ^ crc_table[6][(word >> 8) & 0xFF] ^
              crc_table[5][(word >> 16) & 0xFF] ^ crc_table[4][(word >> 24) & 0xFF] ^
              crc_table[3][(word >> 32) & 0xFF] ^ crc_table[2][(word >> 40) & 0xFF] ^
              crc_table[1][(word >> 48) & 0xFF] ^ crc_table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = ~crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        length -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (length--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

#if defined(__x86_64__)
/// Three independent CRC chains in one loop: the crc32 instruction has a latency of three
/// cycles but issues every cycle, so three chains run at about three times the speed of one.
__attribute__((target("sse4.2")))
static void crc32c_3way_sse42(const unsigned char *a, const unsigned char *b, const unsigned char *c,
                              size_t length, uint32_t out[3]) {
    uint64_t ca = 0xFFFFFFFFu, cb = 0xFFFFFFFFu, cc = 0xFFFFFFFFu;
    size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        uint64_t wa, wb, wc;
        memcpy(&wa, a + i, 8);
        memcpy(&wb, b + i, 8);
        memcpy(&wc, c + i, 8);
        ca = __builtin_ia32_crc32di(ca, wa);
        cb = __builtin_ia32_crc32di(cb, wb);
        cc = __builtin_ia32_crc32di(cc, wc);
    }
    uint32_t ra = (uint32_t)ca, rb = (uint32_t)cb, rc = (uint32_t)cc;
    for (; i < length; i++) {
        ra = __builtin_ia32_crc32qi(ra, a[i]);
        rb = __builtin_ia32_crc32qi(rb, b[i]);
        rc = __builtin_ia32_crc32qi(rc, c[i]);
    }
    out[0] = ~ra;
    out[1] = ~rb;
    out[2] = ~rc;
}
#endif

static int cpu_has_sse42(void) {
#if defined(__x86_64__)
    static int has_sse42 = -1;
    int known = __atomic_load_n(&has_sse42, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&has_sse42, known, __ATOMIC_RELAXED);
    }
    return known;
#else
    return 0;
#endif
}

void lineup_crc32c_3way(const void *a, const void *b, const void *c, size_t length, uint32_t out[3]) {
#if defined(__x86_64__)
    if (cpu_has_sse42()) {
        crc32c_3way_sse42((const unsigned char *)a, (const unsigned char *)b, (const unsigned char *)c, length, out);
        return;
    }
#endif
    out[0] = lineup_crc32c_serial(0, a, length);
    out[1] = lineup_crc32c_serial(0, b, length);
    out[2] = lineup_crc32c_serial(0, c, length);
}

uint32_t lineup_crc32c(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (cpu_has_sse42()) return crc32c_sse42(crc, data, length);
#endif
    return lineup_crc32c_serial(crc, data, length);
}
