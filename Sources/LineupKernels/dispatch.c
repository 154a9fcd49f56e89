// One dispatch table per instruction set, and the choice among them, made once per process.
//
// The choice needs both the CPU (CPUID) and the OS: an instruction set whose registers the OS
// does not save on a context switch must not be used, even though the CPU has it. The CPU side
// comes from __builtin_cpu_supports; the OS side is read from XCR0 here, explicitly, because
// whether __builtin_cpu_supports consults XCR0 depends on which runtime (libgcc or compiler-rt,
// and which version) provides it.
#include "LineupKernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

enum level { LEVEL_SERIAL, LEVEL_AVX2, LEVEL_AVX512 };

static const lineup_kernel_table serial_table = {
    .scores_f32 = scores_f32_serial,
    .scores_f16 = scores_f16_serial,
    .scores_i8 = scores_i8_serial,
    .scores_many_f32 = scores_many_f32_serial,
    .scores_many_f16 = scores_many_f16_serial,
    .scores_many_i8 = scores_many_i8_serial,
    .isa = "serial",
};

#if defined(__x86_64__)
static const lineup_kernel_table avx2_table = {
    .scores_f32 = scores_f32_avx2,
    .scores_f16 = scores_f16_avx2,
    .scores_i8 = scores_i8_avx2,
    .scores_many_f32 = scores_many_f32_avx2,
    .scores_many_f16 = scores_many_f16_avx2,
    .scores_many_i8 = scores_many_i8_avx2,
    .isa = "avx2",
};

static const lineup_kernel_table avx512_table = {
    .scores_f32 = scores_f32_avx512,
    .scores_f16 = scores_f16_avx512,
    .scores_i8 = scores_i8_avx512,
    .scores_many_f32 = scores_many_f32_avx512,
    .scores_many_f16 = scores_many_f16_avx512,
    .scores_many_i8 = scores_many_i8_avx512,
    .isa = "avx512",
};
#endif

static const lineup_kernel_table *table_for_level(enum level level) {
    switch (level) {
#if defined(__x86_64__)
    case LEVEL_AVX512: return &avx512_table;
    case LEVEL_AVX2: return &avx2_table;
#endif
    default: return &serial_table;
    }
}

/// The level named `isa`, or -1 when the name is unknown (or NULL).
static int level_named(const char *isa) {
    if (isa == NULL) return -1;
    if (strcmp(isa, "serial") == 0) return LEVEL_SERIAL;
    if (strcmp(isa, "avx2") == 0) return LEVEL_AVX2;
    if (strcmp(isa, "avx512") == 0) return LEVEL_AVX512;
    return -1;
}

#if defined(__x86_64__)
/// XCR0: which register states the OS saves and restores. XGETBV is written as inline asm so
/// this file needs no target attribute and no -mxsave; the caller checks OSXSAVE first, without
/// which XGETBV faults.
static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static enum level detect_level(void) {
    __builtin_cpu_init();
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return LEVEL_SERIAL;
    if ((ecx & bit_OSXSAVE) == 0) return LEVEL_SERIAL;   // no XGETBV, no AVX state
    const uint64_t xcr0 = read_xcr0();
    // Bits 1-2: SSE and AVX (YMM upper halves). Bits 5-7: AVX-512 opmask, ZMM0-15 upper
    // halves, ZMM16-31.
    const int os_saves_ymm = (xcr0 & 0x06) == 0x06;
    const int os_saves_zmm = (xcr0 & 0xE6) == 0xE6;

    const int avx2 = os_saves_ymm && __builtin_cpu_supports("avx2") &&
                     __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (!avx2) return LEVEL_SERIAL;
    const int avx512 = os_saves_zmm && __builtin_cpu_supports("avx512f") &&
                       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                       __builtin_cpu_supports("avx512dq");
    return avx512 ? LEVEL_AVX512 : LEVEL_AVX2;
}
#else
static enum level detect_level(void) { return LEVEL_SERIAL; }
#endif

static enum level supported_level;              // what the CPU and OS allow
static const lineup_kernel_table *chosen_table; // after LINEUP_KERNELS
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void) {
    supported_level = detect_level();
    enum level level = supported_level;
    // A request can only lower the level: forcing kernels the CPU lacks would crash with an
    // illegal instruction, so such a request (or an unknown name) falls back to the best.
    int requested = level_named(getenv("LINEUP_KERNELS"));
    if (requested >= 0 && (enum level)requested < level) level = (enum level)requested;
    chosen_table = table_for_level(level);
}

const lineup_kernel_table *lineup_kernels(void) {
    pthread_once(&detect_once, detect);
    return chosen_table;
}

const lineup_kernel_table *lineup_kernels_for(const char *isa) {
    pthread_once(&detect_once, detect);
    int level = level_named(isa);
    if (level < 0 || (enum level)level > supported_level) return NULL;
    return table_for_level((enum level)level);
}
