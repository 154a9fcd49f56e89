// One dispatch table per instruction set, and the choice among them, made once per process.
//
// The choice needs both the CPU (CPUID) and the OS: an instruction set whose registers the OS
// does not save on a context switch must not be used, even though the CPU has it. The CPU side
// comes from __builtin_cpu_supports; the OS side is read from XCR0 here, explicitly, because
// whether __builtin_cpu_supports consults XCR0 depends on which runtime (libgcc or compiler-rt,
// and which version) provides it. The VNNI bits are read with CPUID directly, for the same
// reason (older runtimes do not know them).
//
// The sets form a chain for the choice (serial < avx2 < avxvnni < avx512 < avx512vnni), but a
// CPU may support a set without one below it (AVX512_VNNI without AVX-VNNI: Cascade Lake, Ice
// Lake), so what is supported is kept as a set of levels, not as the highest one.
#include "LineupKernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

enum level { LEVEL_SERIAL, LEVEL_AVX2, LEVEL_AVXVNNI, LEVEL_AVX512, LEVEL_AVX512VNNI, LEVEL_COUNT };

static const lineup_kernel_table serial_table = {
    .scores_f32 = scores_f32_serial,
    .scores_f16 = scores_f16_serial,
    .scores_i8 = scores_i8_serial,
    .scores_many_f32 = scores_many_f32_serial,
    .scores_many_f16 = scores_many_f16_serial,
    .scores_many_i8 = scores_many_i8_serial,
    .scores_many_i8q = NULL,
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
    .scores_many_i8q = NULL,
    .isa = "avx2",
};

static const lineup_kernel_table avxvnni_table = {
    .scores_f32 = scores_f32_avx2,
    .scores_f16 = scores_f16_avx2,
    .scores_i8 = scores_i8_avx2,
    .scores_many_f32 = scores_many_f32_avx2,
    .scores_many_f16 = scores_many_f16_avx2,
    .scores_many_i8 = scores_many_i8_avx2,
    .scores_many_i8q = scores_many_i8q_avxvnni,
    .isa = "avxvnni",
};

static const lineup_kernel_table avx512_table = {
    .scores_f32 = scores_f32_avx512,
    .scores_f16 = scores_f16_avx512,
    .scores_i8 = scores_i8_avx512,
    .scores_many_f32 = scores_many_f32_avx512,
    .scores_many_f16 = scores_many_f16_avx512,
    .scores_many_i8 = scores_many_i8_avx512,
    .scores_many_i8q = NULL,
    .isa = "avx512",
};

static const lineup_kernel_table avx512vnni_table = {
    .scores_f32 = scores_f32_avx512,
    .scores_f16 = scores_f16_avx512,
    .scores_i8 = scores_i8_avx512,
    .scores_many_f32 = scores_many_f32_avx512,
    .scores_many_f16 = scores_many_f16_avx512,
    .scores_many_i8 = scores_many_i8_avx512,
    .scores_many_i8q = scores_many_i8q_avx512vnni,
    .isa = "avx512vnni",
};
#endif

static const lineup_kernel_table *table_for_level(enum level level) {
    switch (level) {
#if defined(__x86_64__)
    case LEVEL_AVX512VNNI: return &avx512vnni_table;
    case LEVEL_AVX512: return &avx512_table;
    case LEVEL_AVXVNNI: return &avxvnni_table;
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
    if (strcmp(isa, "avxvnni") == 0) return LEVEL_AVXVNNI;
    if (strcmp(isa, "avx512") == 0) return LEVEL_AVX512;
    if (strcmp(isa, "avx512vnni") == 0) return LEVEL_AVX512VNNI;
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

/// The levels the CPU and the OS support, as a bit set (bit `level`).
static unsigned detect_levels(void) {
    unsigned levels = 1u << LEVEL_SERIAL;
    __builtin_cpu_init();
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return levels;
    if ((ecx & bit_OSXSAVE) == 0) return levels;   // no XGETBV, no AVX state
    const uint64_t xcr0 = read_xcr0();
    // Bits 1-2: SSE and AVX (YMM upper halves). Bits 5-7: AVX-512 opmask, ZMM0-15 upper
    // halves, ZMM16-31.
    const int os_saves_ymm = (xcr0 & 0x06) == 0x06;
    const int os_saves_zmm = (xcr0 & 0xE6) == 0xE6;

    const int avx2 = os_saves_ymm && __builtin_cpu_supports("avx2") &&
                     __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (!avx2) return levels;
    levels |= 1u << LEVEL_AVX2;
    // CPUID leaf 7: subleaf 0 ECX bit 11 is AVX512_VNNI; subleaf 1 EAX bit 4 is AVX-VNNI
    // (subleaf 1 exists when subleaf 0 reports a maximum subleaf >= 1 in EAX).
    unsigned int max_subleaf = 0, leaf7_ecx = 0, leaf7_1_eax = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        max_subleaf = eax;
        leaf7_ecx = ecx;
        if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) leaf7_1_eax = eax;
    }
    if (leaf7_1_eax & (1u << 4)) levels |= 1u << LEVEL_AVXVNNI;
    const int avx512 = os_saves_zmm && __builtin_cpu_supports("avx512f") &&
                       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                       __builtin_cpu_supports("avx512dq");
    if (avx512) {
        levels |= 1u << LEVEL_AVX512;
        if (leaf7_ecx & (1u << 11)) levels |= 1u << LEVEL_AVX512VNNI;
    }
    return levels;
}
#else
static unsigned detect_levels(void) { return 1u << LEVEL_SERIAL; }
#endif

static unsigned supported_levels;               // bit set: what the CPU and OS allow
static const lineup_kernel_table *chosen_table; // after LINEUP_KERNELS
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static void detect(void) {
    supported_levels = detect_levels();
    enum level level = LEVEL_SERIAL;
    for (int candidate = 0; candidate < LEVEL_COUNT; candidate++) {
        if (supported_levels & (1u << candidate)) level = (enum level)candidate;
    }
    // A request can only lower the level: forcing kernels the CPU lacks would crash with an
    // illegal instruction, so such a request (or an unknown name) falls back to the best. Every
    // supported level is at most the best, so honouring a supported one never raises it.
    int requested = level_named(getenv("LINEUP_KERNELS"));
    if (requested >= 0 && (supported_levels & (1u << requested))) level = (enum level)requested;
    chosen_table = table_for_level(level);
}

const lineup_kernel_table *lineup_kernels(void) {
    pthread_once(&detect_once, detect);
    return chosen_table;
}

const lineup_kernel_table *lineup_kernels_for(const char *isa) {
    pthread_once(&detect_once, detect);
    int level = level_named(isa);
    if (level < 0 || !(supported_levels & (1u << level))) return NULL;
    return table_for_level((enum level)level);
}
