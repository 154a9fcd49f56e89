// The `.postgresql` backend. Every file of this module compiles only with the package trait
// PostgreSQL (`swift build --traits PostgreSQL`); without it the module is empty and the
// build never needs libpq.
#if PostgreSQL
import Foundation
import Lineup

/// The PostgreSQL backend's entry point.
///
/// Call ``enable()`` once, before the first `createDatabaseConnection` with `.postgresql`;
/// until then (and in builds without the trait) `.postgresql` throws `featureNotSupported`.
public enum LineupPostgreSQL {
    /// Registers the backend with Lineup, so that `SDK.createDatabaseConnection` with
    /// `dbms = .postgresql` connects through libpq. Calling it again changes nothing.
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
#endif
