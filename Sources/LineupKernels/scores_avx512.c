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

#endif
