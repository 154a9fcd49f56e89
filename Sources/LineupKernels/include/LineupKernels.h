// LineupKernels: the similarity kernels the matcher runs over blocks of stored vectors.
//
// Every kernel is named <op>_<type>_<isa> and has the same contract as its serial twin, which
// is the reference the tests hold the others to. The CPU's features are detected once, into
// one dispatch table (lineup_kernels()); callers go through the table, never name an ISA.
//
// Stored forms (see FORMAT.md, "Vector encodings"):
//   f32  IEEE 754 binary32, little-endian
//   f16  IEEE 754 binary16, little-endian
//   i8   two's-complement int8, with one float scale per row: value = q * scale
#ifndef LINEUP_KERNELS_H
#define LINEUP_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Scores `count` rows against one probe: scores[r] = scale(r) * sum_d row_r[d] * probe[d].
///
/// - rows: the first row; row r starts at rows + r * row_stride bytes (row_stride may be 0: one
///   row scored `count` times).
///
/// Row r's score depends only on its own elements, the probe, and its place in the call (which
/// group of four it falls in, if any, and where in it): never on the other rows. So a row of a
/// group is rescored alone, bit for bit, as that group with row_stride 0 (Matcher.singleScore).
/// - dimension: elements per row; the probe holds `dimension` floats.
/// - row_scales: one float per row for i8 (required), ignored (may be NULL) for f32 and f16.
/// - scores: `count` floats, written.
typedef void (*lineup_scores_fn)(const void *rows, size_t row_stride, size_t count,
                                 size_t dimension, const float *probe,
                                 const float *row_scales, float *scores);

/// Scores `count` rows against `probe_count` probes in one pass (batch identification):
///
///     scores[p * score_stride + r] = scale(r) * sum_d row_r[d] * probes[p * dimension + d]
///
/// for r < count, p < probe_count: the same result as calling the lineup_scores_fn of the same
/// type once per probe with `scores + p * score_stride` (within rounding: the SIMD kernels sum in
/// another order), but register-blocked (a few rows x a few probes per pass over the
/// dimension), so each row and probe vector loaded feeds several FMAs and a tile of rows held in
/// cache is scored at close to the FMA peak rather than at the speed of loads.
///
/// - rows, row_stride, count, dimension, row_scales: as in lineup_scores_fn.
/// - probes: `probe_count` probes of `dimension` floats each, contiguous (probe p at
///   probes + p * dimension); any alignment.
/// - scores: row r's score against probe p at scores[p * score_stride + r] (a float index, any
///   alignment). score_stride >= count whenever probe_count > 1; only those
///   count * probe_count floats are written, the gaps (score_stride > count) are untouched.
///
/// Rows are processed in groups small enough to stay in L1 (f16 and i8 rows converted to float
/// once per group), each group against every probe before the next, so `rows` is read from
/// memory once per call and the probes (probe_count * dimension * 4 bytes) should fit in L2:
/// to score a large block against many probes, call this once per tile of rows (a few
/// hundred) with all the probes (a few hundred, 512 KiB for 256 x 512). Any alignment is
/// correct, but the SIMD kernels run fastest with the probes 64-byte aligned (and dimension a
/// multiple of 16, so every probe is): a probe vector that straddles two cache lines costs two
/// loads, about a fifth of the throughput (AVX-512, 512 floats, measured).
typedef void (*lineup_scores_many_fn)(const void *rows, size_t row_stride, size_t count,
                                      size_t dimension, const float *probes, size_t probe_count,
                                      const float *row_scales, float *scores, size_t score_stride);

/// Scores `count` int8 rows against `probe_count` probes that are themselves quantised to int8,
/// in exact integer arithmetic (batch identification over int8 blocks):
///
///     dot(p, r) = sum_d row_r[d] * probes[p * probe_stride + d]          (an exact int32)
///     scores[p * score_stride + r] = ((float)dot(p, r) * probe_steps[p]) * row_scales[r]
///
/// that is, in that order: the integer sum converted to float (rounded to nearest), times the
/// probe's step, times the row's scale. Every kernel of this type computes the same integer sum
/// and then the same two float products, so all of them (SIMD or serial, any blocking) return
/// the same bits: they are held to the serial one exactly, not within a tolerance.
///
/// A probe p of floats is meant to be passed as q[d] = round(p[d] / step), step = max|p| / 127,
/// so q lies in -127...127 and step * q approximates p within step / 2 in every element; the
/// scores are then approximations of the float kernels' scores, and the caller bounds the
/// difference (Matcher.swift, "Quantised batches").
///
/// - rows, row_stride, count, row_scales, score_stride: as in lineup_scores_many_fn (i8 rows,
///   any alignment, any int8 value including -128; row_scales required).
/// - dimension: elements per row and per probe, at most 65536 (so that no partial sum, even of
///   the biased products the VNNI kernels form, leaves int32).
/// - probes: probe p's `dimension` int8 elements at probes + p * probe_stride (bytes, any
///   alignment, probe_stride >= dimension); the elements should be in -127...127 (-128 is
///   allowed and exact).
/// - probe_steps: one float per probe.
/// - scores: as in lineup_scores_many_fn; only the count * probe_count scores are written.
///
/// Blocking and cache behaviour follow lineup_scores_many_fn: call it once per tile of rows (a
/// few hundred) with every probe; the probes (probe_count * dimension bytes, 128 KiB for
/// 256 x 512) should fit in L2.
typedef void (*lineup_scores_many_i8q_fn)(const void *rows, size_t row_stride, size_t count,
                                          size_t dimension, const int8_t *probes,
                                          size_t probe_stride, size_t probe_count,
                                          const float *probe_steps, const float *row_scales,
                                          float *scores, size_t score_stride);

/// The kernels chosen for this CPU, with the name of the instruction set they use (`isa`, the
/// last field).
typedef struct lineup_kernel_table {
    lineup_scores_fn scores_f32;
    lineup_scores_fn scores_f16;
    lineup_scores_fn scores_i8;
    lineup_scores_many_fn scores_many_f32;
    lineup_scores_many_fn scores_many_f16;
    lineup_scores_many_fn scores_many_i8;
    /// The exact integer multi-probe kernel for int8 rows and int8-quantised probes, or NULL
    /// where the set has no instruction for it that beats scores_many_i8 (no VNNI): serial,
    /// avx2 and avx512 leave it NULL, avxvnni and avx512vnni fill it. Callers that find it
    /// NULL score int8 batches with scores_many_i8.
    lineup_scores_many_i8q_fn scores_many_i8q;
    const char *isa;
} lineup_kernel_table;

/// The dispatch table for this CPU, detected on first use. Thread-safe; never NULL.
///
/// The instruction sets, from the lowest:
///   "serial"      portable C;
///   "avx2"        AVX2, FMA, F16C (the OS saving the YMM state);
///   "avxvnni"     "avx2" plus AVX-VNNI (VEX-encoded VPDPBUSD on 256-bit vectors);
///   "avx512"      AVX-512 F, BW, VL, DQ with FMA and F16C (the OS saving the ZMM state);
///   "avx512vnni"  "avx512" plus AVX512_VNNI (VPDPBUSD on 512-bit vectors).
/// The highest the CPU and the OS support is chosen. The environment variable
/// LINEUP_KERNELS=<one of those names>, read once, lowers the choice (for tests and
/// benchmarks): a named set the CPU supports is used; a set it lacks (which would crash with an
/// illegal instruction) and an unknown name are ignored, leaving the best.
const lineup_kernel_table *lineup_kernels(void);

/// The table of one named instruction set (see lineup_kernels), or NULL when the CPU (or the
/// OS) lacks it or the name is unknown. Ignores LINEUP_KERNELS, so tests can hold every
/// available table to the serial one. Thread-safe.
const lineup_kernel_table *lineup_kernels_for(const char *isa);

/// The portable reference kernels.
void scores_f32_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores);
void scores_f16_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores);
void scores_i8_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                      const float *probe, const float *row_scales, float *scores);
/// The multi-probe references: the single-probe serial kernel above, once per probe.
void scores_many_f32_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride);
void scores_many_f16_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride);
void scores_many_i8_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                           const float *probes, size_t probe_count, const float *row_scales,
                           float *scores, size_t score_stride);
/// The exact integer reference for lineup_scores_many_i8q_fn. In no table: without VNNI the
/// integer path gains nothing over scores_many_i8 and costs the matcher a wider candidate
/// gather; the kernel tests and the matcher's tests call it directly.
void scores_many_i8q_serial(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const int8_t *probes, size_t probe_stride, size_t probe_count,
                            const float *probe_steps, const float *row_scales, float *scores,
                            size_t score_stride);

#if defined(__x86_64__)
/// AVX2 + FMA + F16C kernels. Call only where lineup_kernels_for("avx2") is not NULL.
void scores_f32_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                     const float *probe, const float *row_scales, float *scores);
void scores_f16_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                     const float *probe, const float *row_scales, float *scores);
void scores_i8_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                    const float *probe, const float *row_scales, float *scores);
void scores_many_f32_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                          const float *probes, size_t probe_count, const float *row_scales,
                          float *scores, size_t score_stride);
void scores_many_f16_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                          const float *probes, size_t probe_count, const float *row_scales,
                          float *scores, size_t score_stride);
void scores_many_i8_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                         const float *probes, size_t probe_count, const float *row_scales,
                         float *scores, size_t score_stride);

/// AVX-512 (F, BW, VL, DQ) + FMA + F16C kernels. Call only where lineup_kernels_for("avx512")
/// is not NULL.
void scores_f32_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores);
void scores_f16_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores);
void scores_i8_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                      const float *probe, const float *row_scales, float *scores);
void scores_many_f32_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride);
void scores_many_f16_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                            const float *probes, size_t probe_count, const float *row_scales,
                            float *scores, size_t score_stride);
void scores_many_i8_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                           const float *probes, size_t probe_count, const float *row_scales,
                           float *scores, size_t score_stride);

/// VPDPBUSD kernels for lineup_scores_many_i8q_fn. Call the first only where
/// lineup_kernels_for("avxvnni") is not NULL, the second only where
/// lineup_kernels_for("avx512vnni") is not NULL.
void scores_many_i8q_avxvnni(const void *rows, size_t row_stride, size_t count, size_t dimension,
                             const int8_t *probes, size_t probe_stride, size_t probe_count,
                             const float *probe_steps, const float *row_scales, float *scores,
                             size_t score_stride);
void scores_many_i8q_avx512vnni(const void *rows, size_t row_stride, size_t count,
                                size_t dimension, const int8_t *probes, size_t probe_stride,
                                size_t probe_count, const float *probe_steps,
                                const float *row_scales, float *scores, size_t score_stride);
#endif

/// CRC32C (Castagnoli, reflected 0x82F63B78, init and final XOR 0xFFFFFFFF), continuing from
/// `crc` (0 to start). Uses SSE4.2 where present. FORMAT.md, "Checksums".
uint32_t lineup_crc32c(uint32_t crc, const void *data, size_t length);
/// The CRC32C (from 0) of three buffers of the same length at once, into out[0..2]: three
/// independent chains keep the CRC unit busy, so checking many equal blocks goes about three
/// times as fast as one at a time.
void lineup_crc32c_3way(const void *a, const void *b, const void *c, size_t length, uint32_t out[3]);
/// The table-driven CRC32C every other implementation is tested against.
uint32_t lineup_crc32c_serial(uint32_t crc, const void *data, size_t length);

/// IEEE 754 binary16 -> binary32, exact (subnormals, infinities and NaN included).
float lineup_f16_to_f32(uint16_t half);

#ifdef __cplusplus
}
#endif

#endif
