import Synchronization
#if PostgreSQL
import LineupBackendHooks
#endif

/// Where backends built in other modules of this package make themselves available.
///
/// The PostgreSQL backend lives in its own module (`LineupPostgreSQL`, compiled in by the
/// package trait `PostgreSQL`) so that the default build never links libpq; that module
/// depends on this one, so it cannot be named from here. It is part of the library product
/// `Lineup`, so every program depending on the product links it; as the program is loaded, a
/// constructor of its C companion stores its registration function in a hook
/// (LineupBackendHooks.h), and the first look-up of ``postgreSQL`` that finds no factory runs
/// that function, which registers one. `LineupPostgreSQL.enable()` registers it directly.
///
/// Thread safety: registration and look-up may happen from any thread; the hook runs at most
/// once, and threads looking up meanwhile wait for it.
package enum BackendRegistry {
    /// Opens a backend for a connection string with the connecting SDK's options.
    package typealias Factory = @Sendable (_ connectionString: String, _ options: ConfigurationOptions) throws -> any StorageBackend

    private static let postgreSQLFactory = Mutex<Factory?>(nil)

    /// The factory for `.postgresql`, or nil when no PostgreSQL backend is compiled in and
    /// linked into this program.
    package static var postgreSQL: Factory? {
        if let factory = postgreSQLFactory.withLock({ $0 }) { return factory }
        #if PostgreSQL
        // Outside the lock: the hook registers through registerPostgreSQL(_:).
        _ = postgreSQLHookRan
        return postgreSQLFactory.withLock { $0 }
        #else
        return nil
        #endif
    }

    /// Makes `factory` the one `.postgresql` connections use (a later registration replaces it).
    package static func registerPostgreSQL(_ factory: @escaping Factory) {
        postgreSQLFactory.withLock { $0 = factory }
    }

    /// Why ``postgreSQL`` is nil, for the `featureNotSupported` of a `.postgresql` connection.
    package static var postgreSQLMissingReason: String {
        #if PostgreSQL
        "the PostgreSQL backend is compiled in but not linked into this program; it needs the module LineupPostgreSQL (part of the library product Lineup)"
        #else
        "the PostgreSQL backend is not compiled in; build with the package trait PostgreSQL"
        #endif
    }

    #if PostgreSQL
    /// Whether LineupPostgreSQL's hook was filled, and so ran. A static's initializer runs once
    /// per process, whichever threads ask (swift_once), so the hook runs at most once.
    private static let postgreSQLHookRan: Bool = lineup_run_postgresql_hook() != 0
    #endif
}
