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
/// - rows: the first row; row r starts at rows + r * row_stride bytes.
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

/// The kernels chosen for this CPU, with the name of the instruction set they use (`isa`, the
/// last field).
typedef struct lineup_kernel_table {
    lineup_scores_fn scores_f32;
    lineup_scores_fn scores_f16;
    lineup_scores_fn scores_i8;
    lineup_scores_many_fn scores_many_f32;
    lineup_scores_many_fn scores_many_f16;
    lineup_scores_many_fn scores_many_i8;
    const char *isa;
} lineup_kernel_table;

/// The dispatch table for this CPU, detected on first use. Thread-safe; never NULL.
///
/// The best instruction set the CPU and the OS support is chosen: "avx512" (AVX-512 F, BW, VL,
/// DQ with FMA and F16C, and the OS saving the ZMM state), then "avx2" (AVX2, FMA, F16C), else
/// "serial". The environment variable LINEUP_KERNELS=serial|avx2|avx512, read once, lowers the
/// choice (for tests and benchmarks); it never raises it above what the CPU supports, and an
/// unknown value is ignored.
const lineup_kernel_table *lineup_kernels(void);

/// The table of one named instruction set ("serial", "avx2", "avx512"), or NULL when the CPU
/// (or the OS) lacks it or the name is unknown. Ignores LINEUP_KERNELS, so tests can hold every
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
