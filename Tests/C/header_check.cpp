// lineup.h compiles as C++ (make test-c builds this with -Wall -Wextra -Werror): its
// declarations have C linkage and use nothing C++ refuses.
#include <lineup.h>

static_assert(LINEUP_OK == 0, "LINEUP_OK is 0");

int main() {
    lineup_options *options = nullptr;
    if (lineup_options_create(&options) != LINEUP_OK) return 1;
    lineup_options_free(options);
    return 0;
}
