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

#endif
