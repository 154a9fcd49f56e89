// The `.postgresql` backend. Every file of this module compiles only with the package trait
// PostgreSQL (`swift build --traits PostgreSQL`); without it the module is empty and the
// build never needs libpq.
#if PostgreSQL
import Foundation
import Lineup

/// The PostgreSQL backend's entry point.
///
/// A program needs nothing from this module: it is part of the library product `Lineup`, and
/// Lineup registers the backend itself the first time a connection asks for `.postgresql`
/// (through the hook LineupPostgreSQLHook fills as the program is loaded; see
/// LineupBackendHooks.h). ``enable()`` does the same registration explicitly.
public enum LineupPostgreSQL {
    /// Registers the backend with Lineup, so that `SDK.createDatabaseConnection` with
    /// `dbms = .postgresql` connects through libpq. Calling it again, or after Lineup has
    /// registered the backend itself, changes nothing. Safe from any thread.
    ///
    /// Unless the environment says otherwise (`PGGSSENCMODE`) or the connection string does
    /// (`gssencmode=`), GSSAPI encryption is not negotiated: libpq's Kerberos library tears
    /// down its locks at process exit while the listener thread may still be connecting, which
    /// aborts the process. TLS (`sslmode=require`) is unaffected.
    public static func enable() {
        setenv("PGGSSENCMODE", "disable", 0)
        BackendRegistry.registerPostgreSQL { connectionString, options in
            try PostgresBackend(conninfo: connectionString, options: options)
        }
    }
}

/// The registration function Lineup's PostgreSQL hook calls (LineupPostgreSQLHook stores its
/// address before `main`; Lineup calls it on the first `.postgresql` look-up that finds no
/// backend). `@usableFromInline` keeps the symbol in optimized builds, where an internal
/// function nothing in Swift calls could be dropped.
@usableFromInline @_cdecl("lineup_postgresql_register")
func registerThroughLineupHook() {
    LineupPostgreSQL.enable()
}
#endif
