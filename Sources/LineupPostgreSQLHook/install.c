// Fills Lineup's PostgreSQL hook (LineupBackendHooks.h) as the program is loaded, so that a
// program linking LineupPostgreSQL (every program that depends on the library product Lineup,
// built with the package trait PostgreSQL) gets `.postgresql` from `import Lineup` alone.
//
// Compiled only with the trait (the define LINEUP_POSTGRESQL). The constructor only stores an
// address; the registration itself runs later, in Swift, when Lineup first needs the backend.
// The linker keeps it in release builds too: constructors are roots for garbage collection of
// sections (.init_array), and it references the registration function.
#ifdef LINEUP_POSTGRESQL
#include "LineupBackendHooks.h"
#include "LineupPostgreSQLHook.h"

__attribute__((constructor))
static void lineup_postgresql_install_hook(void) {
    lineup_set_postgresql_hook(lineup_postgresql_register);
}
#endif
