// The portable reference kernels: plain loops, no intrinsics. Every faster kernel is tested
// against these.
#include "LineupKernels.h"

#include <string.h>

static inline float load_f32(const unsigned char *p) {
    float value;
    memcpy(&value, p, sizeof value);   // unaligned-safe; compiles to one load
    return value;
}

static inline uint16_t load_u16(const unsigned char *p) {
    uint16_t value;
    memcpy(&value, p, sizeof value);
    return value;
}

float lineup_f16_to_f32(uint16_t half) {
    uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
    uint32_t exponent = (half >> 10) & 0x1Fu;
    uint32_t mantissa = half & 0x3FFu;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;                                  // ±0
        } else {                                          // subnormal: normalise
            int shift = 0;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                shift++;
            }
            mantissa &= 0x3FFu;
            bits = sign | ((uint32_t)(127 - 15 - shift + 1) << 23) | (mantissa << 13);
        }
    } else if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);     // ±Inf, NaN
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

void scores_f32_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores) {
    (void)row_scales;
    const unsigned char *row = (const unsigned char *)rows;
    for (size_t r = 0; r < count; r++, row += row_stride) {
        float sum = 0.0f;
        for (size_t d = 0; d < dimension; d++) {
            sum += load_f32(row + 4 * d) * probe[d];
        }
        scores[r] = sum;
    }
}

void scores_f16_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores) {
    (void)row_scales;
    const unsigned char *row = (const unsigned char *)rows;
    for (size_t r = 0; r < count; r++, row += row_stride) {
        float sum = 0.0f;
        for (size_t d = 0; d < dimension; d++) {
            sum += lineup_f16_to_f32(load_u16(row + 2 * d)) * probe[d];
        }
        scores[r] = sum;
    }
}

void scores_i8_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                      const float *probe, const float *row_scales, float *scores) {
    const unsigned char *row = (const unsigned char *)rows;
    for (size_t r = 0; r < count; r++, row += row_stride) {
        const int8_t *q = (const int8_t *)row;
        float sum = 0.0f;
        for (size_t d = 0; d < dimension; d++) {
            sum += (float)q[d] * probe[d];
        }
        scores[r] = sum * row_scales[r];
    }
}

// The multi-probe references: one single-probe pass per probe, into its own run of scores.
void scores_many_f32_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride) {
    for (size_t p = 0; p < probe_count; p++) {
        scores_f32_serial(rows, row_stride, count, dimension, probes + p * dimension, row_scales,
                          scores + p * score_stride);
    }
}

void scores_many_f16_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride) {
    for (size_t p = 0; p < probe_count; p++) {
        scores_f16_serial(rows, row_stride, count, dimension, probes + p * dimension, row_scales,
                          scores + p * score_stride);
    }
}

void scores_many_i8_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                           const float *probes, size_t probe_count, const float *row_scales,
                           float *scores, size_t score_stride) {
    for (size_t p = 0; p < probe_count; p++) {
        scores_i8_serial(rows, row_stride, count, dimension, probes + p * dimension, row_scales,
                         scores + p * score_stride);
    }
}

// The quantised-probe reference: the integer sum in int32 (exact for dimension <= 65536:
// |q * qp| <= 128 * 128), then the two float products in the order the contract fixes.
void scores_many_i8q_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const int8_t *probes, size_t probe_stride, size_t probe_count,
                            const float *probe_steps, const float *row_scales, float *scores,
                            size_t score_stride) {
    for (size_t p = 0; p < probe_count; p++) {
        const int8_t *probe = probes + p * probe_stride;
        const unsigned char *row = (const unsigned char *)rows;
        for (size_t r = 0; r < count; r++, row += row_stride) {
            const int8_t *q = (const int8_t *)row;
            int32_t dot = 0;
            for (size_t d = 0; d < dimension; d++) dot += (int32_t)q[d] * (int32_t)probe[d];
            scores[p * score_stride + r] = ((float)dot * probe_steps[p]) * row_scales[r];
        }
    }
}
