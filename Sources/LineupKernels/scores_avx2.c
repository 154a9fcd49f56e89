// AVX2 + FMA + F16C kernels: the same contract as the serial ones (LineupKernels.h), eight
// floats per vector.
//
// Shape, shared by the three element types:
//   - four rows per iteration, each with two accumulators: the probe is loaded once per four
//     rows, and the eight independent FMA chains hide the FMA latency (4 cycles, 2 ports), so
//     a block that streams from memory is limited by bandwidth, not by arithmetic;
//   - dimension split into a 16-wide body, at most one 8-wide step, and a tail of 0..7 elements
//     that is copied into a zeroed buffer, so no load ever reads past the row or the probe
//     (rows may sit at the very end of a mapping) and the zero lanes add exactly nothing;
//   - the four sums reduced together into one 128-bit vector and stored with one store;
//   - the same lines of the rows PREFETCH_DISTANCE bytes (whole blocks) ahead are prefetched,
//     one prefetch per line;
//   - 0..3 leftover rows go through the same code one row at a time.
//
// Every load is unaligned (loadu): production rows are 64-byte aligned, but the contract allows
// any address and stride, and unaligned loads of aligned data cost nothing extra.
//
// The functions carry target attributes instead of the package being built with -mavx2, so the
// package builds with default flags; the dispatcher calls them only on CPUs that have them.
#include "LineupKernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
// Helpers are forced inline so that `type`, a constant at every call site, folds away and each
// public kernel compiles to straight-line code for its own element type.
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

// Software prefetch distance. The hardware prefetchers follow one long sequential stream well,
// but here four row streams are read side by side and each is short (a 512-element f16 row is
// 16 lines, an i8 row 8), which leaves the prefetchers little to lock on to. Prefetching the
// same lines of the four rows one or more blocks ahead (at least this many bytes) lifted a
// 2 GiB single-thread scan (AVX-512 and AVX2 kernels alike, on a Xeon with AVX512-FP16) from
// 8.4 to 14 GB/s for f16 and from 6.9 to 11.8 GB/s for i8, and f32 a little (15 to 16);
// distances from 4 to 16 KiB measured alike.
#define PREFETCH_DISTANCE 4096

enum element_type { ELEMENT_F32, ELEMENT_F16, ELEMENT_I8 };

static inline __attribute__((always_inline)) size_t element_size(enum element_type type) {
    return type == ELEMENT_F32 ? 4 : type == ELEMENT_F16 ? 2 : 1;
}

/// Eight consecutive elements at `p` (any alignment), widened to float.
AVX2_INLINE __m256 load8(const unsigned char *p, enum element_type type) {
    switch (type) {
    case ELEMENT_F32:
        return _mm256_loadu_ps((const float *)p);
    case ELEMENT_F16:
        // F16C converts exactly: subnormals, ±0, infinities and NaN included.
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    case ELEMENT_I8:
    default:
        // int8 -> int32 -> float is exact (|q| <= 128).
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
    }
}

/// The last `n` (1..7) elements of a row at `p`, zero-extended to eight lanes. Copying keeps the
/// read inside the row; AVX2 has no masked load for 8- or 16-bit elements.
AVX2_INLINE __m256 load_tail(const unsigned char *p, size_t n, enum element_type type) {
    unsigned char buffer[32] = {0};
    memcpy(buffer, p, n * element_size(type));
    return load8(buffer, type);
}

/// Prefetches into L1 the line at `base + offset` and the same line of the three rows after it.
/// The address is formed as an integer: the rows prefetched run ahead of the ones being scored,
/// past the last one near the end of the block, which is harmless for a prefetch (it never
/// faults) but would be undefined as pointer arithmetic.
static inline __attribute__((always_inline)) void prefetch4(const unsigned char *base, size_t offset,
                                                            size_t stride) {
    const uintptr_t p = (uintptr_t)base + offset;
    _mm_prefetch((const char *)p, _MM_HINT_T0);
    _mm_prefetch((const char *)(p + stride), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + 2 * stride), _MM_HINT_T0);
    _mm_prefetch((const char *)(p + 3 * stride), _MM_HINT_T0);
}

/// The sum of each of four vectors, as the four lanes of one vector (in order).
AVX2_INLINE __m128 reduce4(__m256 s0, __m256 s1, __m256 s2, __m256 s3) {
    // hadd pairs neighbours within each 128-bit half: after two rounds lane i of each half holds
    // a partial sum of row i, and adding the halves finishes all four rows at once.
    __m256 s01 = _mm256_hadd_ps(s0, s1);
    __m256 s23 = _mm256_hadd_ps(s2, s3);
    __m256 s0123 = _mm256_hadd_ps(s01, s23);
    return _mm_add_ps(_mm256_castps256_ps128(s0123), _mm256_extractf128_ps(s0123, 1));
}

AVX2_INLINE float reduce1(__m256 s) {
    __m128 v = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

AVX2_INLINE void scores_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                             const float *probe, const float *row_scales, float *scores,
                             enum element_type type) {
    const size_t size = element_size(type);
    const size_t body16 = dimension & ~(size_t)15;
    const size_t body8 = dimension & ~(size_t)7;
    const size_t rest = dimension & 7;

    // The probe's tail, zero-padded once per call rather than once per row.
    float probe_tail_buffer[8] = {0};
    memcpy(probe_tail_buffer, probe + body8, rest * sizeof(float));
    const __m256 probe_tail = _mm256_loadu_ps(probe_tail_buffer);

    const unsigned char *row = (const unsigned char *)rows;
    size_t r = 0;
    // Prefetch distance: whole blocks of four rows, at least PREFETCH_DISTANCE bytes ahead.
    const size_t block_bytes = 4 * row_stride;
    const size_t ahead = block_bytes ? (PREFETCH_DISTANCE + block_bytes - 1) / block_bytes * block_bytes : 0;
    for (; r + 4 <= count; r += 4, row += 4 * row_stride) {
        const unsigned char *r0 = row;
        const unsigned char *r1 = row + row_stride;
        const unsigned char *r2 = row + 2 * row_stride;
        const unsigned char *r3 = row + 3 * row_stride;
        __m256 a0 = _mm256_setzero_ps(), b0 = _mm256_setzero_ps();
        __m256 a1 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps();
        __m256 a3 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
        size_t d = 0;
        for (; d < body16; d += 16) {
            const __m256 p0 = _mm256_loadu_ps(probe + d);
            const __m256 p1 = _mm256_loadu_ps(probe + d + 8);
            const size_t o0 = d * size, o1 = (d + 8) * size;
            // One prefetch per line: an iteration covers 16 * size bytes of each row, less than a
            // line for narrow types, so those prefetch on every other (or fourth) iteration.
            if ((o0 & 63) == 0) {
                for (size_t line = 0; line < 16 * size; line += 64) prefetch4(row, ahead + o0 + line, row_stride);
            }
            a0 = _mm256_fmadd_ps(load8(r0 + o0, type), p0, a0);
            b0 = _mm256_fmadd_ps(load8(r0 + o1, type), p1, b0);
            a1 = _mm256_fmadd_ps(load8(r1 + o0, type), p0, a1);
            b1 = _mm256_fmadd_ps(load8(r1 + o1, type), p1, b1);
            a2 = _mm256_fmadd_ps(load8(r2 + o0, type), p0, a2);
            b2 = _mm256_fmadd_ps(load8(r2 + o1, type), p1, b2);
            a3 = _mm256_fmadd_ps(load8(r3 + o0, type), p0, a3);
            b3 = _mm256_fmadd_ps(load8(r3 + o1, type), p1, b3);
        }
        if (d < body8) {
            const __m256 p0 = _mm256_loadu_ps(probe + d);
            const size_t o0 = d * size;
            a0 = _mm256_fmadd_ps(load8(r0 + o0, type), p0, a0);
            a1 = _mm256_fmadd_ps(load8(r1 + o0, type), p0, a1);
            a2 = _mm256_fmadd_ps(load8(r2 + o0, type), p0, a2);
            a3 = _mm256_fmadd_ps(load8(r3 + o0, type), p0, a3);
            d += 8;
        }
        if (rest) {
            const size_t o0 = d * size;
            b0 = _mm256_fmadd_ps(load_tail(r0 + o0, rest, type), probe_tail, b0);
            b1 = _mm256_fmadd_ps(load_tail(r1 + o0, rest, type), probe_tail, b1);
            b2 = _mm256_fmadd_ps(load_tail(r2 + o0, rest, type), probe_tail, b2);
            b3 = _mm256_fmadd_ps(load_tail(r3 + o0, rest, type), probe_tail, b3);
        }
        __m128 sums = reduce4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1),
                              _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3));
        if (type == ELEMENT_I8) sums = _mm_mul_ps(sums, _mm_loadu_ps(row_scales + r));
        _mm_storeu_ps(scores + r, sums);
    }
    for (; r < count; r++, row += row_stride) {
        __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
        size_t d = 0;
        for (; d < body16; d += 16) {
            a = _mm256_fmadd_ps(load8(row + d * size, type), _mm256_loadu_ps(probe + d), a);
            b = _mm256_fmadd_ps(load8(row + (d + 8) * size, type), _mm256_loadu_ps(probe + d + 8), b);
        }
        if (d < body8) {
            a = _mm256_fmadd_ps(load8(row + d * size, type), _mm256_loadu_ps(probe + d), a);
            d += 8;
        }
        if (rest) b = _mm256_fmadd_ps(load_tail(row + d * size, rest, type), probe_tail, b);
        float sum = reduce1(_mm256_add_ps(a, b));
        scores[r] = type == ELEMENT_I8 ? sum * row_scales[r] : sum;
    }
}

AVX2_TARGET
void scores_f32_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                     const float *probe, const float *row_scales, float *scores) {
    scores_avx2(rows, row_stride, count, dimension, probe, row_scales, scores, ELEMENT_F32);
}

AVX2_TARGET
void scores_f16_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                     const float *probe, const float *row_scales, float *scores) {
    scores_avx2(rows, row_stride, count, dimension, probe, row_scales, scores, ELEMENT_F16);
}

AVX2_TARGET
void scores_i8_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                    const float *probe, const float *row_scales, float *scores) {
    scores_avx2(rows, row_stride, count, dimension, probe, row_scales, scores, ELEMENT_I8);
}

// ---------------------------------------------------------------------------------------------
// Multi-probe kernels (lineup_scores_many_fn): a tile of rows against several probes.
//
// As in scores_avx512.c (see there for the reasoning), with 16 ymm registers: the register
// block is MANY_ROWS rows x 4 probes (2 x 4: 8 accumulators, the 8 chains that the FMA latency
// needs on two ports, plus 2 rows and a probe in flight; a 4 x 4 block would spill). Rows go in
// groups of about MANY_GROUP_BYTES, each scored against every probe before the next, with the
// next group prefetched into L2; f16 and i8 groups are converted once into a float buffer on
// the stack (rows too long for four of them to fit are converted per block instead).
//
// Leftovers: probes in blocks of 4, then one of 2, then one of 1; rows in blocks of
// MANY_ROWS, then one at a time. Blocks with fewer than 8 accumulators keep two per (row,
// probe) pair, on alternate 8-element steps. The dimension splits into 8-element steps and a
// tail of 0..7 elements copied into zeroed buffers (rows and probes alike), as in the
// single-probe kernel.
// ---------------------------------------------------------------------------------------------

#ifndef MANY_GROUP_BYTES
#define MANY_GROUP_BYTES 16384
#endif
#define MANY_ROWS 2

/// The eight sums of x[2 * p + r] (p < 4, r < 2), in that order.
AVX2_INLINE __m256 reduce8(const __m256 x[8]) {
    // Within each 128-bit half, two rounds of hadd leave lane i holding a partial sum of the
    // i-th vector of the four; the halves (lanes 0..3 and 4..7 of the inputs) are then added.
    const __m256 s0123 = _mm256_hadd_ps(_mm256_hadd_ps(x[0], x[1]), _mm256_hadd_ps(x[2], x[3]));
    const __m256 s4567 = _mm256_hadd_ps(_mm256_hadd_ps(x[4], x[5]), _mm256_hadd_ps(x[6], x[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20),
                         _mm256_permute2f128_ps(s0123, s4567, 0x31));
}

/// One 8-element step of an R x P block at element `d`, into accumulator slot u: the R row
/// vectors loaded (and converted) once, each probe vector loaded once and multiplied into its R
/// accumulators. `tail` (1..7, else 0) reads only that many elements, through zeroed buffers.
AVX2_INLINE void many_step(__m256 acc[MANY_ROWS][4][2], const unsigned char *row, size_t row_stride,
                           const float *probe, size_t dimension, size_t d, size_t tail, int u,
                           int R, int P, enum element_type type) {
    const size_t offset = d * element_size(type);
    __m256 x[MANY_ROWS];
    for (int r = 0; r < R; r++) {
        x[r] = tail ? load_tail(row + r * row_stride + offset, tail, type)
                    : load8(row + r * row_stride + offset, type);
    }
    for (int p = 0; p < P; p++) {
        const unsigned char *q = (const unsigned char *)(probe + p * dimension + d);
        const __m256 v = tail ? load_tail(q, tail, ELEMENT_F32) : load8(q, ELEMENT_F32);
        for (int r = 0; r < R; r++) acc[r][p][u] = _mm256_fmadd_ps(x[r], v, acc[r][p][u]);
    }
}

/// Scores the R rows at `row` against the P probes at `probe` into scores[p * score_stride + r]
/// (`scores` at the block's first row and probe), the sums times scales[r] when `scales` is
/// not NULL. R is MANY_ROWS or 1 and P is 4, 2 or 1, constants at every call site.
AVX2_INLINE void many_block(const unsigned char *row, size_t row_stride, size_t dimension,
                            const float *probe, const float *scales, float *scores,
                            size_t score_stride, int R, int P, enum element_type type) {
    const int U = R * P >= 8 ? 1 : 2;
    __m256 acc[MANY_ROWS][4][2];
    for (int r = 0; r < R; r++) {
        for (int p = 0; p < P; p++) {
            for (int u = 0; u < U; u++) acc[r][p][u] = _mm256_setzero_ps();
        }
    }
    size_t d = 0;
    if (U == 2) {
        for (; d + 16 <= dimension; d += 16) {
            many_step(acc, row, row_stride, probe, dimension, d, 0, 0, R, P, type);
            many_step(acc, row, row_stride, probe, dimension, d + 8, 0, 1, R, P, type);
        }
    }
    for (; d + 8 <= dimension; d += 8) {
        many_step(acc, row, row_stride, probe, dimension, d, 0, 0, R, P, type);
    }
    if (d < dimension) {
        many_step(acc, row, row_stride, probe, dimension, d, dimension - d, U - 1, R, P, type);
    }
    if (U == 2) {
        for (int r = 0; r < R; r++) {
            for (int p = 0; p < P; p++) acc[r][p][0] = _mm256_add_ps(acc[r][p][0], acc[r][p][1]);
        }
    }

    if (R == 2 && P == 4) {
        __m256 x[8];
        for (int p = 0; p < 4; p++) {
            for (int r = 0; r < 2; r++) x[2 * p + r] = acc[r][p][0];
        }
        __m256 sums = reduce8(x);
        if (scales) {
            // (scale of row 0, scale of row 1) in every pair of lanes.
            const __m128 pair = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)scales));
            const __m128 pairs = _mm_movelh_ps(pair, pair);
            sums = _mm256_mul_ps(sums, _mm256_set_m128(pairs, pairs));
        }
        const __m128 low = _mm256_castps256_ps128(sums), high = _mm256_extractf128_ps(sums, 1);
        _mm_storel_pi((__m64 *)scores, low);
        _mm_storeh_pi((__m64 *)(scores + score_stride), low);
        _mm_storel_pi((__m64 *)(scores + 2 * score_stride), high);
        _mm_storeh_pi((__m64 *)(scores + 3 * score_stride), high);
    } else {
        for (int p = 0; p < P; p++) {
            for (int r = 0; r < R; r++) {
                const float sum = reduce1(acc[r][p][0]);
                scores[p * score_stride + r] = scales ? sum * scales[r] : sum;
            }
        }
    }
}

/// The `count` rows at `rows` against the P probes at `probe`: blocks of MANY_ROWS rows, then
/// single rows. `scales` (one per row) may be NULL: no scaling.
AVX2_INLINE void many_rows(const unsigned char *rows, size_t row_stride, size_t count,
                           size_t dimension, const float *probe, const float *scales,
                           float *scores, size_t score_stride, int P, enum element_type type) {
    size_t r = 0;
    for (; r + MANY_ROWS <= count; r += MANY_ROWS) {
        many_block(rows + r * row_stride, row_stride, dimension, probe, scales ? scales + r : NULL,
                   scores + r, score_stride, MANY_ROWS, P, type);
    }
    for (; r < count; r++) {
        many_block(rows + r * row_stride, row_stride, dimension, probe, scales ? scales + r : NULL,
                   scores + r, score_stride, 1, P, type);
    }
}

/// One group of `count` rows (at `rows`, in L1) against every probe, prefetching the
/// `next_bytes` bytes at `next` (the next group) into L2 on the way.
AVX2_INLINE void many_group(const unsigned char *rows, size_t row_stride, size_t count,
                            size_t dimension, const float *probes, size_t probe_count,
                            const float *scales, float *scores, size_t score_stride,
                            uintptr_t next, size_t next_bytes, enum element_type type) {
    // The prefetches, spread evenly over the blocks of probes. Addresses are formed as integers:
    // prefetching never faults, but pointer arithmetic past the block would be undefined.
    const size_t lines_per_block = (next_bytes / 64 + 1) / (probe_count / 4 + 1) + 1;
    size_t prefetched = 0;
    size_t p = 0;
    for (; p + 4 <= probe_count; p += 4) {
        for (size_t i = 0; i < lines_per_block && prefetched < next_bytes; i++, prefetched += 64) {
            _mm_prefetch((const char *)(next + prefetched), _MM_HINT_T1);
        }
        many_rows(rows, row_stride, count, dimension, probes + p * dimension, scales,
                  scores + p * score_stride, score_stride, 4, type);
    }
    for (; prefetched < next_bytes; prefetched += 64) _mm_prefetch((const char *)(next + prefetched), _MM_HINT_T1);
    if (probe_count - p >= 2) {
        many_rows(rows, row_stride, count, dimension, probes + p * dimension, scales,
                  scores + p * score_stride, score_stride, 2, type);
        p += 2;
    }
    if (p < probe_count) {
        many_rows(rows, row_stride, count, dimension, probes + p * dimension, scales,
                  scores + p * score_stride, score_stride, 1, type);
    }
}

AVX2_INLINE void scores_many_avx2(const void *rows, size_t row_stride, size_t count,
                                  size_t dimension, const float *probes, size_t probe_count,
                                  const float *row_scales, float *scores, size_t score_stride,
                                  enum element_type type) {
    const unsigned char *base = (const unsigned char *)rows;
    const float *scales = type == ELEMENT_I8 ? row_scales : NULL;
    if (count == 0 || probe_count == 0) return;
    // Converted rows: whole vectors of floats, the lanes past `dimension` zero.
    const size_t padded = (dimension + 7) & ~(size_t)7;
    const int convert = type != ELEMENT_F32 && 4 * padded * sizeof(float) <= MANY_GROUP_BYTES;
    // Rows per group: a multiple of four, about MANY_GROUP_BYTES of them in L1 (as read by the
    // blocks: converted, when they are), at least 4 and at most 64.
    const size_t group_stride = convert ? padded * sizeof(float) : row_stride;
    size_t group = group_stride ? MANY_GROUP_BYTES / group_stride : 64;
    group = group < 4 ? 4 : group > 64 ? 64 : group & ~(size_t)3;
    for (size_t begin = 0; begin < count; begin += group) {
        const size_t n = count - begin < group ? count - begin : group;
        const unsigned char *first = base + begin * row_stride;
        const size_t following = count - begin - n;   // rows after this group
        const uintptr_t next = (uintptr_t)first + n * row_stride;
        const size_t next_bytes = (following < group ? following : group) * row_stride;
        const float *group_scales = scales ? scales + begin : NULL;
        if (convert) {
            float buffer[MANY_GROUP_BYTES / sizeof(float)] __attribute__((aligned(64)));
            const size_t rest = dimension & 7;
            for (size_t r = 0; r < n; r++) {
                const unsigned char *row = first + r * row_stride;
                float *out = buffer + r * padded;
                size_t d = 0;
                for (; d + 8 <= dimension; d += 8) _mm256_store_ps(out + d, load8(row + d * element_size(type), type));
                if (rest) _mm256_store_ps(out + d, load_tail(row + d * element_size(type), rest, type));
            }
            many_group((const unsigned char *)buffer, padded * sizeof(float), n, dimension, probes,
                       probe_count, group_scales, scores + begin, score_stride, next, next_bytes,
                       ELEMENT_F32);
        } else {
            many_group(first, row_stride, n, dimension, probes, probe_count, group_scales,
                       scores + begin, score_stride, next, next_bytes, type);
        }
    }
}

AVX2_TARGET
void scores_many_f32_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                          const float *probes, size_t probe_count, const float *row_scales,
                          float *scores, size_t score_stride) {
    scores_many_avx2(rows, row_stride, count, dimension, probes, probe_count, row_scales, scores,
                     score_stride, ELEMENT_F32);
}

AVX2_TARGET
void scores_many_f16_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                          const float *probes, size_t probe_count, const float *row_scales,
                          float *scores, size_t score_stride) {
    scores_many_avx2(rows, row_stride, count, dimension, probes, probe_count, row_scales, scores,
                     score_stride, ELEMENT_F16);
}

AVX2_TARGET
void scores_many_i8_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                         const float *probes, size_t probe_count, const float *row_scales,
                         float *scores, size_t score_stride) {
    scores_many_avx2(rows, row_stride, count, dimension, probes, probe_count, row_scales, scores,
                     score_stride, ELEMENT_I8);
}

#endif
