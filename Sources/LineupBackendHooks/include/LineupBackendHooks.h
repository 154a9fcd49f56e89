// LineupBackendHooks: how a backend module linked into a program makes itself known to Lineup
// without the program calling it.
//
// The PostgreSQL backend (the Swift module LineupPostgreSQL) depends on Lineup, so Lineup
// cannot name it. Instead, LineupPostgreSQL's C companion (the target LineupPostgreSQLHook)
// has a constructor that, as the program is loaded, stores the address of LineupPostgreSQL's
// registration function here; Lineup runs it the first time it needs the `.postgresql`
// backend. A program that does not link LineupPostgreSQL leaves the hook empty.
//
// Both sides compile their content only with the package trait PostgreSQL (the define
// LINEUP_POSTGRESQL); without it these functions do not exist and nothing calls them.
#ifndef LINEUP_BACKEND_HOOKS_H
#define LINEUP_BACKEND_HOOKS_H

#ifdef __cplusplus
extern "C" {
#endif

/// A backend's registration function: registers its factory with Lineup. Idempotent.
typedef void (*lineup_backend_register_fn)(void);

/// Stores the PostgreSQL backend's registration function (a later call replaces it).
///
/// Called by LineupPostgreSQLHook's constructor, before `main`, and by nothing else. It only
/// stores the address: no Swift code runs before `main`. Safe from any thread.
void lineup_set_postgresql_hook(lineup_backend_register_fn register_backend);

/// Calls the stored PostgreSQL registration function, if there is one.
///
/// Returns 1 when it called one, 0 when the hook is empty (LineupPostgreSQL is not linked into
/// this program). Safe from any thread; Lineup calls it at most once.
int lineup_run_postgresql_hook(void);

#ifdef __cplusplus
}
#endif

#endif
