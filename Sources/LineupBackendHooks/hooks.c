// The hook LineupPostgreSQL fills (see LineupBackendHooks.h). Compiled only with the package
// trait PostgreSQL.
#ifdef LINEUP_POSTGRESQL
#include "LineupBackendHooks.h"

#include <stddef.h>

// Written by a constructor and read later, possibly on another thread: atomic, so that a
// program loading Lineup's code with dlopen on one thread and connecting on another is safe too.
static lineup_backend_register_fn postgresql_hook;

void lineup_set_postgresql_hook(lineup_backend_register_fn register_backend) {
    __atomic_store_n(&postgresql_hook, register_backend, __ATOMIC_RELEASE);
}

int lineup_run_postgresql_hook(void) {
    lineup_backend_register_fn register_backend = __atomic_load_n(&postgresql_hook, __ATOMIC_ACQUIRE);
    if (register_backend == NULL) return 0;
    register_backend();
    return 1;
}
#endif
