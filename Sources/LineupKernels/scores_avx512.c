// AVX-512 kernels (F, BW, VL, DQ, with FMA and F16C): the same contract as the serial ones
// (LineupKernels.h), sixteen floats per vector.
//
// Shape, as in scores_avx2.c:
//   - four rows per iteration, two accumulators each: one probe load feeds four rows, and eight
//     independent FMA chains keep both FMA ports busy when the block is cache-resident; when it
//     streams from memory the loop is bandwidth-bound;
//   - dimension split into a 32-wide body, at most one 16-wide step, and a tail of 0..15
//     elements read with masked loads: masked-off lanes are neither read (no fault past the end
//     of a row, even at the end of a mapping) nor nonzero, so they add exactly nothing;
//   - the four sums folded to 256 bits and reduced together into one 128-bit store;
//   - the same lines of the rows PREFETCH_DISTANCE bytes (whole blocks) ahead are prefetched,
//     one prefetch per line;
//   - 0..3 leftover rows go through the same code one row at a time.
//
// Every load is unaligned (loadu): the contract allows any address and stride, and on aligned
// production rows unaligned loads cost nothing extra.
//
// Target attributes rather than -mavx512f keep the package buildable with default flags; the
// dispatcher calls these only on CPUs (and OSes) with AVX-512 enabled.
#include "LineupKernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
// Forced inline so that `type`, a constant at every call site, folds away and each public
// kernel compiles to straight-line code for its own element type.
#define AVX512_INLINE \
    static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

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

/// Sixteen consecutive elements at `p` (any alignment), widened to float.
AVX512_INLINE __m512 load16(const unsigned char *p, enum element_type type) {
    switch (type) {
    case ELEMENT_F32:
        return _mm512_loadu_ps((const float *)p);
    case ELEMENT_F16:
        // F16C (VCVTPH2PS) converts exactly: subnormals, ±0, infinities and NaN included.
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
    case ELEMENT_I8:
    default:
        // int8 -> int32 -> float is exact (|q| <= 128).
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
    }
}

/// The lanes of `mask` (a prefix) of sixteen elements at `p`; the other lanes are zero and
/// their memory is not touched.
AVX512_INLINE __m512 load16_masked(const unsigned char *p, __mmask16 mask, enum element_type type) {
    switch (type) {
    case ELEMENT_F32:
        return _mm512_maskz_loadu_ps(mask, (const float *)p);
    case ELEMENT_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
    case ELEMENT_I8:
    default:
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, p)));
    }
}

/// The lower and upper halves of `v` added: the same total in half the lanes.
AVX512_INLINE __m256 fold(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
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
AVX512_INLINE __m128 reduce4(__m512 s0, __m512 s1, __m512 s2, __m512 s3) {
    // After folding to 256 bits, hadd pairs neighbours within each 128-bit half: two rounds
    // leave lane i of each half holding a partial sum of row i, and adding the halves finishes
    // all four rows at once.
    __m256 s01 = _mm256_hadd_ps(fold(s0), fold(s1));
    __m256 s23 = _mm256_hadd_ps(fold(s2), fold(s3));
    __m256 s0123 = _mm256_hadd_ps(s01, s23);
    return _mm_add_ps(_mm256_castps256_ps128(s0123), _mm256_extractf128_ps(s0123, 1));
}

AVX512_INLINE float reduce1(__m512 s) {
    __m256 h = fold(s);
    __m128 v = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

AVX512_INLINE void scores_avx512(const void *rows, size_t row_stride, size_t count,
                                 size_t dimension, const float *probe, const float *row_scales,
                                 float *scores, enum element_type type) {
    const size_t size = element_size(type);
    const size_t body32 = dimension & ~(size_t)31;
    const size_t body16 = dimension & ~(size_t)15;
    const size_t rest = dimension & 15;
    const __mmask16 tail_mask = (__mmask16)((1u << rest) - 1u);
    // The probe's tail, loaded once per call rather than once per row.
    const __m512 probe_tail = _mm512_maskz_loadu_ps(tail_mask, probe + body16);

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
        __m512 a0 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps();
        __m512 a1 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps();
        __m512 a3 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
        size_t d = 0;
        for (; d < body32; d += 32) {
            const __m512 p0 = _mm512_loadu_ps(probe + d);
            const __m512 p1 = _mm512_loadu_ps(probe + d + 16);
            const size_t o0 = d * size, o1 = (d + 16) * size;
            // One prefetch per line: an iteration covers 32 * size bytes of each row, less than a
            // line for narrow types, so those prefetch on every other (or fourth) iteration.
            if ((o0 & 63) == 0) {
                for (size_t line = 0; line < 32 * size; line += 64) prefetch4(row, ahead + o0 + line, row_stride);
            }
            a0 = _mm512_fmadd_ps(load16(r0 + o0, type), p0, a0);
            b0 = _mm512_fmadd_ps(load16(r0 + o1, type), p1, b0);
            a1 = _mm512_fmadd_ps(load16(r1 + o0, type), p0, a1);
            b1 = _mm512_fmadd_ps(load16(r1 + o1, type), p1, b1);
            a2 = _mm512_fmadd_ps(load16(r2 + o0, type), p0, a2);
            b2 = _mm512_fmadd_ps(load16(r2 + o1, type), p1, b2);
            a3 = _mm512_fmadd_ps(load16(r3 + o0, type), p0, a3);
            b3 = _mm512_fmadd_ps(load16(r3 + o1, type), p1, b3);
        }
        if (d < body16) {
            const __m512 p0 = _mm512_loadu_ps(probe + d);
            const size_t o0 = d * size;
            a0 = _mm512_fmadd_ps(load16(r0 + o0, type), p0, a0);
            a1 = _mm512_fmadd_ps(load16(r1 + o0, type), p0, a1);
            a2 = _mm512_fmadd_ps(load16(r2 + o0, type), p0, a2);
            a3 = _mm512_fmadd_ps(load16(r3 + o0, type), p0, a3);
            d += 16;
        }
        if (rest) {
            const size_t o0 = d * size;
            b0 = _mm512_fmadd_ps(load16_masked(r0 + o0, tail_mask, type), probe_tail, b0);
            b1 = _mm512_fmadd_ps(load16_masked(r1 + o0, tail_mask, type), probe_tail, b1);
            b2 = _mm512_fmadd_ps(load16_masked(r2 + o0, tail_mask, type), probe_tail, b2);
            b3 = _mm512_fmadd_ps(load16_masked(r3 + o0, tail_mask, type), probe_tail, b3);
        }
        __m128 sums = reduce4(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1),
                              _mm512_add_ps(a2, b2), _mm512_add_ps(a3, b3));
        if (type == ELEMENT_I8) sums = _mm_mul_ps(sums, _mm_loadu_ps(row_scales + r));
        _mm_storeu_ps(scores + r, sums);
    }
    for (; r < count; r++, row += row_stride) {
        __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
        size_t d = 0;
        for (; d < body32; d += 32) {
            a = _mm512_fmadd_ps(load16(row + d * size, type), _mm512_loadu_ps(probe + d), a);
            b = _mm512_fmadd_ps(load16(row + (d + 16) * size, type), _mm512_loadu_ps(probe + d + 16), b);
        }
        if (d < body16) {
            a = _mm512_fmadd_ps(load16(row + d * size, type), _mm512_loadu_ps(probe + d), a);
            d += 16;
        }
        if (rest) b = _mm512_fmadd_ps(load16_masked(row + d * size, tail_mask, type), probe_tail, b);
        float sum = reduce1(_mm512_add_ps(a, b));
        scores[r] = type == ELEMENT_I8 ? sum * row_scales[r] : sum;
    }
}

AVX512_TARGET
void scores_f32_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores) {
    scores_avx512(rows, row_stride, count, dimension, probe, row_scales, scores, ELEMENT_F32);
}

AVX512_TARGET
void scores_f16_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores) {
    scores_avx512(rows, row_stride, count, dimension, probe, row_scales, scores, ELEMENT_F16);
}

AVX512_TARGET
void scores_i8_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                      const float *probe, const float *row_scales, float *scores) {
    scores_avx512(rows, row_stride, count, dimension, probe, row_scales, scores, ELEMENT_I8);
}

// ---------------------------------------------------------------------------------------------
// Multi-probe kernels (lineup_scores_many_fn): a tile of rows against several probes.
//
// Scoring one probe at a time, every FMA needs a row load of its own (the probe load is shared
// by four rows), so even from L1 that loop is bound by loads and, for f16 and i8, by the
// conversions, which share ports with the FMAs. Here the unit of work is a register block of
// R rows x P probes (4 x 4 in the body): per 16 elements it loads the R row vectors once and
// the P probe vectors once, and issues R * P FMAs into R * P accumulators (16 zmm, plus the 4
// rows and a probe in flight: 21 of the 32 registers). 8 loads feed 16 FMAs, so the block runs
// at the rate of the two FMA ports, and 16 independent chains cover the FMA latency (4 cycles)
// twice over. The sixteen sums are reduced together by a transposing tree (reduce16).
//
// Cache blocking: the rows are taken in groups of about MANY_GROUP_BYTES (a multiple of four
// rows), and each group is scored against every probe before the next: the group stays in L1
// while the probes stream from L2 once per group (not once per block of four rows), and the
// rows are read from memory once per call. While one group is scored, the next is prefetched
// into L2, a few lines per block of probes.
//
// f16 and i8 rows are converted once per group, not once per block of probes: the group is
// widened into a float buffer on the stack (rows padded to whole vectors with zeros) and the
// blocks run as for f32 on it, the i8 row scales applied to the sums at the end as the serial
// kernel does. Converting in the block instead would put 4 conversions (8 uops on the FMA
// ports) beside every 16 FMAs and cap f16 and i8 at about two thirds of the f32 rate. Rows too
// long for four of them to fit the buffer (dimension > MANY_GROUP_BYTES / 16) are converted
// in the block, per 16 elements.
//
// Leftovers fall back to smaller blocks: probes in blocks of 4, then one of 2, then one of 1;
// rows in blocks of 4, then one at a time. Blocks with fewer than 8 accumulators keep two per
// (row, probe) pair, on alternate 16-element steps, for more independent chains. Dimension
// tails are read with masked loads, as in the single-probe kernel (masked-off lanes are neither
// read nor nonzero). The additions run in another order than the serial kernel's, so the
// results agree with it within rounding, as the single-probe kernels' do.
// ---------------------------------------------------------------------------------------------

#ifndef MANY_GROUP_BYTES
#define MANY_GROUP_BYTES 16384
#endif

/// The sixteen sums of x[4 * p + r] (p, r < 4), as one vector whose 128-bit lanes hold, in
/// order, probes 0, 2, 1, 3 (rows 0..3 within each lane). A transposing tree of 45 shuffles and
/// adds instead of sixteen separate reductions.
AVX512_INLINE __m512 reduce16(const __m512 x[16]) {
    __m512 y[8], z[4];
    // Halves: the low 256 bits of y[i] sum to x[i]'s total, the high 256 bits to x[i + 8]'s.
    for (int i = 0; i < 8; i++) {
        y[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x[i], x[i + 8], 0x44),
                             _mm512_shuffle_f32x4(x[i], x[i + 8], 0xEE));
    }
    // Quarters: the 128-bit lanes of z[i] sum to the totals of x[i], x[i + 8], x[i + 4], x[i + 12].
    for (int i = 0; i < 4; i++) {
        z[i] = _mm512_add_ps(_mm512_shuffle_f32x4(y[i], y[i + 4], 0x88),
                             _mm512_shuffle_f32x4(y[i], y[i + 4], 0xDD));
    }
    // A 4 x 4 transpose-and-add within each lane: element j of lane k is the sum of z[j]'s lane k.
    const __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(z[0], z[1]), _mm512_unpackhi_ps(z[0], z[1]));
    const __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(z[2], z[3]), _mm512_unpackhi_ps(z[2], z[3]));
    return _mm512_add_ps(_mm512_shuffle_ps(t0, t1, 0x44), _mm512_shuffle_ps(t0, t1, 0xEE));
}

/// One 16-element step of an R x P block at element `d`, into accumulator slot u: the R row
/// vectors loaded (and converted) once, each probe vector loaded once and multiplied into its R
/// accumulators. With `tail`, only the lanes of `mask` are read (the dimension's last elements).
AVX512_INLINE void many_step(__m512 acc[4][4][2], const unsigned char *row, size_t row_stride,
                             const float *probe, size_t dimension, size_t d, __mmask16 mask,
                             int tail, int u, int R, int P, enum element_type type) {
    const size_t offset = d * element_size(type);
    __m512 x[4];
    for (int r = 0; r < R; r++) {
        x[r] = tail ? load16_masked(row + r * row_stride + offset, mask, type)
                    : load16(row + r * row_stride + offset, type);
    }
    for (int p = 0; p < P; p++) {
        const float *q = probe + p * dimension + d;
        const __m512 v = tail ? _mm512_maskz_loadu_ps(mask, q) : _mm512_loadu_ps(q);
        for (int r = 0; r < R; r++) acc[r][p][u] = _mm512_fmadd_ps(x[r], v, acc[r][p][u]);
    }
}

/// Scores the R rows at `row` against the P probes at `probe` into scores[p * score_stride + r]
/// (`scores` at the block's first row and probe), the sums times scales[r] when `scales` is
/// not NULL. R is 4 or 1 and P is 4, 2 or 1, constants at every call site.
AVX512_INLINE void many_block(const unsigned char *row, size_t row_stride, size_t dimension,
                              const float *probe, const float *scales, float *scores,
                              size_t score_stride, int R, int P, enum element_type type) {
    const int U = R * P >= 8 ? 1 : 2;
    __m512 acc[4][4][2];
    for (int r = 0; r < R; r++) {
        for (int p = 0; p < P; p++) {
            for (int u = 0; u < U; u++) acc[r][p][u] = _mm512_setzero_ps();
        }
    }
    size_t d = 0;
    if (U == 2) {
        for (; d + 32 <= dimension; d += 32) {
            many_step(acc, row, row_stride, probe, dimension, d, 0xFFFF, 0, 0, R, P, type);
            many_step(acc, row, row_stride, probe, dimension, d + 16, 0xFFFF, 0, 1, R, P, type);
        }
    }
    for (; d + 16 <= dimension; d += 16) {
        many_step(acc, row, row_stride, probe, dimension, d, 0xFFFF, 0, 0, R, P, type);
    }
    if (d < dimension) {
        const __mmask16 mask = (__mmask16)((1u << (dimension - d)) - 1u);
        many_step(acc, row, row_stride, probe, dimension, d, mask, 1, U - 1, R, P, type);
    }
    if (U == 2) {
        for (int r = 0; r < R; r++) {
            for (int p = 0; p < P; p++) acc[r][p][0] = _mm512_add_ps(acc[r][p][0], acc[r][p][1]);
        }
    }

    if (R == 4 && P == 4) {
        __m512 x[16];
        for (int p = 0; p < 4; p++) {
            for (int r = 0; r < 4; r++) x[4 * p + r] = acc[r][p][0];
        }
        __m512 sums = reduce16(x);
        if (scales) sums = _mm512_mul_ps(sums, _mm512_broadcast_f32x4(_mm_loadu_ps(scales)));
        _mm_storeu_ps(scores, _mm512_castps512_ps128(sums));
        _mm_storeu_ps(scores + 2 * score_stride, _mm512_extractf32x4_ps(sums, 1));
        _mm_storeu_ps(scores + score_stride, _mm512_extractf32x4_ps(sums, 2));
        _mm_storeu_ps(scores + 3 * score_stride, _mm512_extractf32x4_ps(sums, 3));
    } else if (R == 4) {
        for (int p = 0; p < P; p++) {
            __m128 sums = reduce4(acc[0][p][0], acc[1][p][0], acc[2][p][0], acc[3][p][0]);
            if (scales) sums = _mm_mul_ps(sums, _mm_loadu_ps(scales));
            _mm_storeu_ps(scores + p * score_stride, sums);
        }
    } else {
        for (int p = 0; p < P; p++) {
            for (int r = 0; r < R; r++) {
                const float sum = reduce1(acc[r][p][0]);
                scores[p * score_stride + r] = scales ? sum * scales[r] : sum;
            }
        }
    }
}

/// The `count` rows at `rows` against the P probes at `probe`: blocks of four rows, then single
/// rows. `scales` (one per row) may be NULL: no scaling.
AVX512_INLINE void many_rows(const unsigned char *rows, size_t row_stride, size_t count,
                             size_t dimension, const float *probe, const float *scales,
                             float *scores, size_t score_stride, int P, enum element_type type) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        many_block(rows + r * row_stride, row_stride, dimension, probe, scales ? scales + r : NULL,
                   scores + r, score_stride, 4, P, type);
    }
    for (; r < count; r++) {
        many_block(rows + r * row_stride, row_stride, dimension, probe, scales ? scales + r : NULL,
                   scores + r, score_stride, 1, P, type);
    }
}

/// One group of `count` rows (at `rows`, in L1) against every probe, prefetching the
/// `next_bytes` bytes at `next` (the next group) into L2 on the way.
AVX512_INLINE void many_group(const unsigned char *rows, size_t row_stride, size_t count,
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

AVX512_INLINE void scores_many_avx512(const void *rows, size_t row_stride, size_t count,
                                      size_t dimension, const float *probes, size_t probe_count,
                                      const float *row_scales, float *scores,
                                      size_t score_stride, enum element_type type) {
    const unsigned char *base = (const unsigned char *)rows;
    const float *scales = type == ELEMENT_I8 ? row_scales : NULL;
    if (count == 0 || probe_count == 0) return;
    // Converted rows: whole vectors of floats, the lanes past `dimension` zero.
    const size_t padded = (dimension + 15) & ~(size_t)15;
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
            const size_t rest = dimension & 15;
            const __mmask16 tail_mask = (__mmask16)((1u << rest) - 1u);
            for (size_t r = 0; r < n; r++) {
                const unsigned char *row = first + r * row_stride;
                float *out = buffer + r * padded;
                size_t d = 0;
                for (; d + 16 <= dimension; d += 16) _mm512_store_ps(out + d, load16(row + d * element_size(type), type));
                if (rest) _mm512_store_ps(out + d, load16_masked(row + d * element_size(type), tail_mask, type));
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

AVX512_TARGET
void scores_many_f32_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride) {
    scores_many_avx512(rows, row_stride, count, dimension, probes, probe_count, row_scales, scores,
                       score_stride, ELEMENT_F32);
}

AVX512_TARGET
void scores_many_f16_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride) {
    scores_many_avx512(rows, row_stride, count, dimension, probes, probe_count, row_scales, scores,
                       score_stride, ELEMENT_F16);
}

AVX512_TARGET
void scores_many_i8_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                           const float *probes, size_t probe_count, const float *row_scales,
                           float *scores, size_t score_stride) {
    scores_many_avx512(rows, row_stride, count, dimension, probes, probe_count, row_scales, scores,
                       score_stride, ELEMENT_I8);
}

#endif
