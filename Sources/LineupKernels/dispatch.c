// One dispatch table, filled once. Faster kernels register here as they are added; until an
// instruction set has its own kernel, its entries point at the serial reference.
#include "LineupKernels.h"

static const lineup_kernel_table serial_table = {
    .scores_f32 = scores_f32_serial,
    .scores_f16 = scores_f16_serial,
    .scores_i8 = scores_i8_serial,
    .isa = "serial",
};

const lineup_kernel_table *lineup_kernels(void) {
    return &serial_table;
}
