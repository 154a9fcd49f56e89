/* The C module the Swift side of the interface (Sources/LineupC) imports lineup.h through,
 * and compile-time checks of what the header promises about its types. */
#include "lineup.h"

_Static_assert(sizeof(lineup_status) == 4, "lineup_status is 32 bits");
_Static_assert(LINEUP_OK == 0, "LINEUP_OK is 0");
_Static_assert(LINEUP_UUID_SIZE == 37, "36 characters and a NUL");
_Static_assert(LINEUP_UNSUPPORTED_FORMAT_VERSION == 18, "status numbers are never changed");
