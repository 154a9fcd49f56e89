// LineupPostgreSQLHook: LineupPostgreSQL's C companion. Its constructor (install.c) stores
// lineup_postgresql_register in Lineup's PostgreSQL hook (LineupBackendHooks.h) as the program
// is loaded. Nothing needs to include this header but install.c.
#ifndef LINEUP_POSTGRESQL_HOOK_H
#define LINEUP_POSTGRESQL_HOOK_H

#ifdef __cplusplus
extern "C" {
#endif

/// Registers the PostgreSQL backend with Lineup: `@_cdecl("lineup_postgresql_register")` in
/// LineupPostgreSQL.swift, defined only with the package trait PostgreSQL.
void lineup_postgresql_register(void);

#ifdef __cplusplus
}
#endif

#endif
