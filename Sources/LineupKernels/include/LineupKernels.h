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

/// The kernels chosen for this CPU, with the name of the instruction set they use.
typedef struct lineup_kernel_table {
    lineup_scores_fn scores_f32;
    lineup_scores_fn scores_f16;
    lineup_scores_fn scores_i8;
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

#if defined(__x86_64__)
/// AVX2 + FMA + F16C kernels. Call only where lineup_kernels_for("avx2") is not NULL.
void scores_f32_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                     const float *probe, const float *row_scales, float *scores);
void scores_f16_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                     const float *probe, const float *row_scales, float *scores);
void scores_i8_avx2(const void *rows, size_t row_stride, size_t count, size_t dimension,
                    const float *probe, const float *row_scales, float *scores);

/// AVX-512 (F, BW, VL, DQ) + FMA + F16C kernels. Call only where lineup_kernels_for("avx512")
/// is not NULL.
void scores_f32_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores);
void scores_f16_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                       const float *probe, const float *row_scales, float *scores);
void scores_i8_avx512(const void *rows, size_t row_stride, size_t count, size_t dimension,
                      const float *probe, const float *row_scales, float *scores);
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
