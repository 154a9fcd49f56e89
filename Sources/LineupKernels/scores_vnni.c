// VPDPBUSD kernels for lineup_scores_many_i8q_fn: int8 rows against int8-quantised probes, in
// exact integer arithmetic (LineupKernels.h). Two instruction sets:
//   avx512vnni  AVX512_VNNI on 512-bit vectors (with AVX-512 F, BW, VL, DQ);
//   avxvnni     AVX-VNNI, the VEX encoding of the same instruction on 256-bit vectors (with AVX2).
//
// VPDPBUSD multiplies unsigned bytes by signed bytes, four adjacent pairs at a time, and adds
// the four products to a 32-bit lane, without saturation: 64 multiply-adds per 512-bit
// instruction, four times an FMA's sixteen. Both operands here are signed, so the rows are
// biased to unsigned: u = q + 128 (q XOR 0x80, in 0...255), and
//
//     sum_d q[d] * qp[d] = sum_d u[d] * qp[d] - 128 * sum_d qp[d],
//
// the last term (the probe's correction) computed once per call for each probe, with the same
// instruction. Every partial sum fits int32 (|u * qp| <= 255 * 128, dimension <= 65536), and
// integer addition is exact in any order, so these kernels return the serial kernel's bits.
//
// Shape, as in the float multi-probe kernels (scores_avx512.c):
//   - register blocks of R rows x P probes: 4 x 4 for avx512vnni (16 accumulators; per 64
//     elements 8 loads feed 16 VPDPBUSD), 2 x 4 for avxvnni (8 of its 16 registers); leftover
//     probes in blocks of 2 and 1, leftover rows one at a time;
//   - rows taken in groups of about I8Q_GROUP_BYTES (a multiple of four rows), each group
//     biased once into an aligned buffer on the stack, where it stays in L1 while every probe
//     visits it; the next group is prefetched into L2 on the way. Rows too long for four to
//     fit the buffer (dimension > I8Q_GROUP_BYTES / 4) are biased in the block instead;
//   - probes taken in chunks of I8Q_PROBE_CHUNK, whose corrections sit in a stack array;
//   - dimension tails: avx512vnni reads them with byte-masked loads (masked-off lanes are not
//     read and are zero in the probe, so they add nothing); AVX2 has no byte-masked load, so
//     avxvnni adds the last dimension % 32 products in scalar code, reading those elements
//     from the rows in place, and its corrections cover only the vector part.
//
// Target attributes rather than -m flags keep the package buildable with default flags; the
// dispatcher calls these only on CPUs (and OSes) with the instructions enabled.
#include "LineupKernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#ifndef I8Q_GROUP_BYTES
#define I8Q_GROUP_BYTES 16384
#endif
#define I8Q_PROBE_CHUNK 256

/// Rows per group for rows of `padded` bytes in the buffer: a multiple of four, at least 4 and
/// at most 64.
static inline size_t group_rows(size_t padded) {
    size_t group = padded ? I8Q_GROUP_BYTES / padded : 64;
    return group < 4 ? 4 : group > 64 ? 64 : group & ~(size_t)3;
}

// ---------------------------------------------------------------------------------------------
// AVX512_VNNI
// ---------------------------------------------------------------------------------------------

#define VNNI512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define VNNI512_INLINE \
    static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/// The sixteen sums of x[4 * p + r] (p, r < 4), as one vector whose 128-bit lanes hold, in
/// order, probes 0, 2, 1, 3 (rows 0..3 within each lane): the transposing tree of the float
/// kernels' reduce16, in integer adds (exact in any order).
VNNI512_INLINE __m512i reduce16_epi32(const __m512i x[16]) {
    __m512i y[8], z[4];
    for (int i = 0; i < 8; i++) {
        y[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(x[i], x[i + 8], 0x44),
                                _mm512_shuffle_i32x4(x[i], x[i + 8], 0xEE));
    }
    for (int i = 0; i < 4; i++) {
        z[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(y[i], y[i + 4], 0x88),
                                _mm512_shuffle_i32x4(y[i], y[i + 4], 0xDD));
    }
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(z[0], z[1]), _mm512_unpackhi_epi32(z[0], z[1]));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(z[2], z[3]), _mm512_unpackhi_epi32(z[2], z[3]));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
}

/// 64 bytes of a row, biased to unsigned: as stored when `biased` (the group buffer), else
/// XORed with 0x80 here. `mask` selects a prefix (the dimension tail); other bytes are not read.
VNNI512_INLINE __m512i row64(const unsigned char *p, __mmask64 mask, int full, int biased) {
    const __m512i v = full ? _mm512_loadu_si512((const void *)p) : _mm512_maskz_loadu_epi8(mask, p);
    return biased ? v : _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
}

/// One block of R rows x P probes (R in {1, 4}, P in {1, 2, 4}); `corrections` and `steps`
/// are the block's first probe's, `scales` the first row's.
VNNI512_INLINE void q512_block(const unsigned char *row, size_t row_stride, size_t dimension,
                               const int8_t *probe, size_t probe_stride, const int32_t *corrections,
                               const float *steps, const float *scales, float *scores,
                               size_t score_stride, const int R, const int P, const int biased) {
    __m512i acc[4][4];
    for (int r = 0; r < R; r++) {
        for (int p = 0; p < P; p++) acc[r][p] = _mm512_setzero_si512();
    }
    size_t d = 0;
    for (; d + 64 <= dimension; d += 64) {
        __m512i rv[4];
        for (int r = 0; r < R; r++) rv[r] = row64(row + r * row_stride + d, 0, 1, biased);
        for (int p = 0; p < P; p++) {
            const __m512i pv = _mm512_loadu_si512((const void *)(probe + p * probe_stride + d));
            for (int r = 0; r < R; r++) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], rv[r], pv);
        }
    }
    if (d < dimension) {
        const __mmask64 mask = (__mmask64)((1ull << (dimension - d)) - 1ull);
        __m512i rv[4];
        for (int r = 0; r < R; r++) rv[r] = row64(row + r * row_stride + d, mask, 0, biased);
        for (int p = 0; p < P; p++) {
            const __m512i pv = _mm512_maskz_loadu_epi8(mask, probe + p * probe_stride + d);
            for (int r = 0; r < R; r++) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], rv[r], pv);
        }
    }

    if (R == 4 && P == 4) {
        __m512i x[16];
        for (int p = 0; p < 4; p++) {
            for (int r = 0; r < 4; r++) x[4 * p + r] = acc[r][p];
        }
        // Lane k of the sums holds probe (0, 2, 1, 3)[k]: its correction and step go there.
        const __m512i lane_probe = _mm512_set_epi32(3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0);
        const __m512i correction = _mm512_permutexvar_epi32(
            lane_probe, _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)corrections)));
        const __m512 step = _mm512_permutexvar_ps(lane_probe, _mm512_castps128_ps512(_mm_loadu_ps(steps)));
        const __m512i dots = _mm512_sub_epi32(reduce16_epi32(x), correction);
        __m512 sums = _mm512_mul_ps(_mm512_cvtepi32_ps(dots), step);
        sums = _mm512_mul_ps(sums, _mm512_broadcast_f32x4(_mm_loadu_ps(scales)));
        _mm_storeu_ps(scores, _mm512_castps512_ps128(sums));
        _mm_storeu_ps(scores + 2 * score_stride, _mm512_extractf32x4_ps(sums, 1));
        _mm_storeu_ps(scores + score_stride, _mm512_extractf32x4_ps(sums, 2));
        _mm_storeu_ps(scores + 3 * score_stride, _mm512_extractf32x4_ps(sums, 3));
    } else {
        for (int p = 0; p < P; p++) {
            for (int r = 0; r < R; r++) {
                const int32_t dot = _mm512_reduce_add_epi32(acc[r][p]) - corrections[p];
                scores[p * score_stride + r] = ((float)dot * steps[p]) * scales[r];
            }
        }
    }
}

/// `count` rows against P probes: blocks of four rows, then single rows.
VNNI512_INLINE void q512_rows(const unsigned char *rows, size_t row_stride, size_t count,
                              size_t dimension, const int8_t *probe, size_t probe_stride,
                              const int32_t *corrections, const float *steps, const float *scales,
                              float *scores, size_t score_stride, const int P, const int biased) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        q512_block(rows + r * row_stride, row_stride, dimension, probe, probe_stride, corrections,
                   steps, scales + r, scores + r, score_stride, 4, P, biased);
    }
    for (; r < count; r++) {
        q512_block(rows + r * row_stride, row_stride, dimension, probe, probe_stride, corrections,
                   steps, scales + r, scores + r, score_stride, 1, P, biased);
    }
}

/// One group of rows against `probe_count` probes, prefetching `next_bytes` at `next` (the next
/// group, an integer address: prefetches never fault) into L2, spread over the probe blocks.
VNNI512_INLINE void q512_group(const unsigned char *rows, size_t row_stride, size_t count,
                               size_t dimension, const int8_t *probes, size_t probe_stride,
                               size_t probe_count, const int32_t *corrections, const float *steps,
                               const float *scales, float *scores, size_t score_stride,
                               uintptr_t next, size_t next_bytes, const int biased) {
    const size_t lines_per_block = (next_bytes / 64 + 1) / (probe_count / 4 + 1) + 1;
    size_t prefetched = 0;
    size_t p = 0;
    for (; p + 4 <= probe_count; p += 4) {
        for (size_t i = 0; i < lines_per_block && prefetched < next_bytes; i++, prefetched += 64) {
            _mm_prefetch((const char *)(next + prefetched), _MM_HINT_T1);
        }
        q512_rows(rows, row_stride, count, dimension, probes + p * probe_stride, probe_stride,
                  corrections + p, steps + p, scales, scores + p * score_stride, score_stride, 4, biased);
    }
    for (; prefetched < next_bytes; prefetched += 64) _mm_prefetch((const char *)(next + prefetched), _MM_HINT_T1);
    if (probe_count - p >= 2) {
        q512_rows(rows, row_stride, count, dimension, probes + p * probe_stride, probe_stride,
                  corrections + p, steps + p, scales, scores + p * score_stride, score_stride, 2, biased);
        p += 2;
    }
    if (p < probe_count) {
        q512_rows(rows, row_stride, count, dimension, probes + p * probe_stride, probe_stride,
                  corrections + p, steps + p, scales, scores + p * score_stride, score_stride, 1, biased);
    }
}

VNNI512_TARGET
void scores_many_i8q_avx512vnni(const void *rows, size_t row_stride, size_t count,
                                size_t dimension, const int8_t *probes, size_t probe_stride,
                                size_t probe_count, const float *probe_steps,
                                const float *row_scales, float *scores, size_t score_stride) {
    if (count == 0 || probe_count == 0) return;
    const unsigned char *base = (const unsigned char *)rows;
    const size_t padded = (dimension + 63) & ~(size_t)63;
    const int buffered = 4 * padded <= I8Q_GROUP_BYTES;
    const size_t group = group_rows(buffered ? padded : row_stride);
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    const size_t rest = dimension & 63;
    const __mmask64 tail_mask = (__mmask64)((1ull << rest) - 1ull);
    for (size_t chunk = 0; chunk < probe_count; chunk += I8Q_PROBE_CHUNK) {
        const size_t chunk_count = probe_count - chunk < I8Q_PROBE_CHUNK ? probe_count - chunk : I8Q_PROBE_CHUNK;
        const int8_t *chunk_probes = probes + chunk * probe_stride;
        // Each probe's correction, 128 * sum_d qp[d]: VPDPBUSD of 0x80 bytes with the probe.
        int32_t corrections[I8Q_PROBE_CHUNK];
        for (size_t p = 0; p < chunk_count; p++) {
            const int8_t *probe = chunk_probes + p * probe_stride;
            __m512i acc = _mm512_setzero_si512();
            size_t d = 0;
            for (; d + 64 <= dimension; d += 64) acc = _mm512_dpbusd_epi32(acc, bias, _mm512_loadu_si512((const void *)(probe + d)));
            if (rest) acc = _mm512_dpbusd_epi32(acc, bias, _mm512_maskz_loadu_epi8(tail_mask, probe + d));
            corrections[p] = _mm512_reduce_add_epi32(acc);
        }
        for (size_t begin = 0; begin < count; begin += group) {
            const size_t n = count - begin < group ? count - begin : group;
            const unsigned char *first = base + begin * row_stride;
            const size_t following = count - begin - n;
            const uintptr_t next = (uintptr_t)first + n * row_stride;
            const size_t next_bytes = (following < group ? following : group) * row_stride;
            float *group_scores = scores + chunk * score_stride + begin;
            if (buffered) {
                // The group, biased, one row per `padded` bytes; the bytes past `dimension` are
                // written (0x80) but never read: the tail loads are masked.
                unsigned char buffer[I8Q_GROUP_BYTES] __attribute__((aligned(64)));
                for (size_t r = 0; r < n; r++) {
                    const unsigned char *row = first + r * row_stride;
                    unsigned char *out = buffer + r * padded;
                    size_t d = 0;
                    for (; d + 64 <= dimension; d += 64) {
                        _mm512_store_si512((void *)(out + d), _mm512_xor_si512(_mm512_loadu_si512((const void *)(row + d)), bias));
                    }
                    if (rest) _mm512_store_si512((void *)(out + d), _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail_mask, row + d), bias));
                }
                q512_group(buffer, padded, n, dimension, chunk_probes, probe_stride, chunk_count,
                           corrections, probe_steps + chunk, row_scales + begin, group_scores,
                           score_stride, next, next_bytes, 1);
            } else {
                q512_group(first, row_stride, n, dimension, chunk_probes, probe_stride, chunk_count,
                           corrections, probe_steps + chunk, row_scales + begin, group_scores,
                           score_stride, next, next_bytes, 0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-VNNI
// ---------------------------------------------------------------------------------------------

#define VNNI256_TARGET __attribute__((target("avx2,avxvnni")))
#define VNNI256_INLINE static inline __attribute__((always_inline, target("avx2,avxvnni")))

/// The four sums of a, b, c, d, in order.
VNNI256_INLINE __m128i reduce4_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/// The eight lanes of v added.
VNNI256_INLINE int32_t reduce1_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/// One block of R rows x P probes (R in {1, 2}, P in {1, 2, 4}): the first `body` (a multiple
/// of 32) elements with VPDPBUSD from `row` (biased when `biased`), the rest in scalar code from
/// `tail` (the same rows as stored, signed, `tail_stride` apart).
VNNI256_INLINE void q256_block(const unsigned char *row, size_t row_stride, const unsigned char *tail,
                               size_t tail_stride, size_t dimension, size_t body,
                               const int8_t *probe, size_t probe_stride, const int32_t *corrections,
                               const float *steps, const float *scales, float *scores,
                               size_t score_stride, const int R, const int P, const int biased) {
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    __m256i acc[2][4];
    for (int r = 0; r < R; r++) {
        for (int p = 0; p < P; p++) acc[r][p] = _mm256_setzero_si256();
    }
    for (size_t d = 0; d < body; d += 32) {
        __m256i rv[2];
        for (int r = 0; r < R; r++) {
            rv[r] = _mm256_loadu_si256((const __m256i *)(row + r * row_stride + d));
            if (!biased) rv[r] = _mm256_xor_si256(rv[r], bias);
        }
        for (int p = 0; p < P; p++) {
            const __m256i pv = _mm256_loadu_si256((const __m256i *)(probe + p * probe_stride + d));
            for (int r = 0; r < R; r++) acc[r][p] = _mm256_dpbusd_avx_epi32(acc[r][p], rv[r], pv);
        }
    }
    for (int r = 0; r < R; r++) {
        int32_t dots[4];
        if (P == 4) {
            _mm_storeu_si128((__m128i *)dots, _mm_sub_epi32(reduce4_epi32(acc[r][0], acc[r][1], acc[r][2], acc[r][3]),
                                                            _mm_loadu_si128((const __m128i *)corrections)));
        } else {
            for (int p = 0; p < P; p++) dots[p] = reduce1_epi32(acc[r][p]) - corrections[p];
        }
        const int8_t *q = (const int8_t *)(tail + r * tail_stride);
        for (size_t d = body; d < dimension; d++) {
            for (int p = 0; p < P; p++) dots[p] += (int32_t)q[d] * (int32_t)probe[p * probe_stride + d];
        }
        for (int p = 0; p < P; p++) scores[p * score_stride + r] = ((float)dots[p] * steps[p]) * scales[r];
    }
}

/// The vector part of a group's rows at `rows` (`row_stride` apart), their tails in place at
/// `tails` (`tail_stride` apart).
typedef struct q256_rows_at {
    const unsigned char *rows;
    size_t row_stride;
    const unsigned char *tails;
    size_t tail_stride;
    int biased;
} q256_rows_at;

VNNI256_INLINE void q256_rows(q256_rows_at at, size_t count, size_t dimension, size_t body,
                              const int8_t *probe, size_t probe_stride, const int32_t *corrections,
                              const float *steps, const float *scales, float *scores,
                              size_t score_stride, const int P) {
    size_t r = 0;
    for (; r + 2 <= count; r += 2) {
        q256_block(at.rows + r * at.row_stride, at.row_stride, at.tails + r * at.tail_stride, at.tail_stride,
                   dimension, body, probe, probe_stride, corrections, steps, scales + r, scores + r,
                   score_stride, 2, P, at.biased);
    }
    if (r < count) {
        q256_block(at.rows + r * at.row_stride, at.row_stride, at.tails + r * at.tail_stride, at.tail_stride,
                   dimension, body, probe, probe_stride, corrections, steps, scales + r, scores + r,
                   score_stride, 1, P, at.biased);
    }
}

VNNI256_INLINE void q256_group(q256_rows_at at, size_t count, size_t dimension, size_t body,
                               const int8_t *probes, size_t probe_stride, size_t probe_count,
                               const int32_t *corrections, const float *steps, const float *scales,
                               float *scores, size_t score_stride, uintptr_t next, size_t next_bytes) {
    const size_t lines_per_block = (next_bytes / 64 + 1) / (probe_count / 4 + 1) + 1;
    size_t prefetched = 0;
    size_t p = 0;
    for (; p + 4 <= probe_count; p += 4) {
        for (size_t i = 0; i < lines_per_block && prefetched < next_bytes; i++, prefetched += 64) {
            _mm_prefetch((const char *)(next + prefetched), _MM_HINT_T1);
        }
        q256_rows(at, count, dimension, body, probes + p * probe_stride, probe_stride, corrections + p,
                  steps + p, scales, scores + p * score_stride, score_stride, 4);
    }
    for (; prefetched < next_bytes; prefetched += 64) _mm_prefetch((const char *)(next + prefetched), _MM_HINT_T1);
    if (probe_count - p >= 2) {
        q256_rows(at, count, dimension, body, probes + p * probe_stride, probe_stride, corrections + p,
                  steps + p, scales, scores + p * score_stride, score_stride, 2);
        p += 2;
    }
    if (p < probe_count) {
        q256_rows(at, count, dimension, body, probes + p * probe_stride, probe_stride, corrections + p,
                  steps + p, scales, scores + p * score_stride, score_stride, 1);
    }
}

VNNI256_TARGET
void scores_many_i8q_avxvnni(const void *rows, size_t row_stride, size_t count, size_t dimension,
                             const int8_t *probes, size_t probe_stride, size_t probe_count,
                             const float *probe_steps, const float *row_scales, float *scores,
                             size_t score_stride) {
    if (count == 0 || probe_count == 0) return;
    const unsigned char *base = (const unsigned char *)rows;
    const size_t body = dimension & ~(size_t)31;
    // The buffer holds each row's vector part, biased; the scalar tail reads the rows in place.
    const size_t padded = (body + 63) & ~(size_t)63;
    const int buffered = body > 0 && 4 * padded <= I8Q_GROUP_BYTES;
    const size_t group = group_rows(buffered ? padded : row_stride);
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    for (size_t chunk = 0; chunk < probe_count; chunk += I8Q_PROBE_CHUNK) {
        const size_t chunk_count = probe_count - chunk < I8Q_PROBE_CHUNK ? probe_count - chunk : I8Q_PROBE_CHUNK;
        const int8_t *chunk_probes = probes + chunk * probe_stride;
        // Corrections over the vector part only: the scalar tail multiplies signed elements.
        int32_t corrections[I8Q_PROBE_CHUNK];
        for (size_t p = 0; p < chunk_count; p++) {
            const int8_t *probe = chunk_probes + p * probe_stride;
            __m256i acc = _mm256_setzero_si256();
            for (size_t d = 0; d < body; d += 32) acc = _mm256_dpbusd_avx_epi32(acc, bias, _mm256_loadu_si256((const __m256i *)(probe + d)));
            corrections[p] = reduce1_epi32(acc);
        }
        for (size_t begin = 0; begin < count; begin += group) {
            const size_t n = count - begin < group ? count - begin : group;
            const unsigned char *first = base + begin * row_stride;
            const size_t following = count - begin - n;
            const uintptr_t next = (uintptr_t)first + n * row_stride;
            const size_t next_bytes = (following < group ? following : group) * row_stride;
            float *group_scores = scores + chunk * score_stride + begin;
            q256_rows_at at = {first, row_stride, first, row_stride, 0};
            unsigned char buffer[I8Q_GROUP_BYTES] __attribute__((aligned(64)));
            if (buffered) {
                for (size_t r = 0; r < n; r++) {
                    const unsigned char *row = first + r * row_stride;
                    for (size_t d = 0; d < body; d += 32) {
                        _mm256_store_si256((__m256i *)(buffer + r * padded + d),
                                           _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row + d)), bias));
                    }
                }
                at.rows = buffer;
                at.row_stride = padded;
                at.biased = 1;
            }
            q256_group(at, n, dimension, body, chunk_probes, probe_stride, chunk_count, corrections,
                       probe_steps + chunk, row_scales + begin, group_scores, score_stride, next, next_bytes);
        }
    }
}

#endif
