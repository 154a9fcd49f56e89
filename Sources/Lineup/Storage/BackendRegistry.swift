import Synchronization

/// Where backends built in other modules of this package make themselves available.
///
/// The PostgreSQL backend lives in its own module (`LineupPostgreSQL`, compiled in by the
/// package trait `PostgreSQL`) so that the default build never links libpq; that module
/// depends on this one, so it cannot be named from here. Instead it registers a factory once
/// (`LineupPostgreSQL.enable()`), and ``SDK/createDatabaseConnection(_:)`` uses the factory for
/// `.postgresql` when one is registered.
///
/// Thread safety: registration and look-up may happen from any thread.
package enum BackendRegistry {
    /// Opens a backend for a connection string with the connecting SDK's options.
    package typealias Factory = @Sendable (_ connectionString: String, _ options: ConfigurationOptions) throws -> any StorageBackend

    private static let postgreSQLFactory = Mutex<Factory?>(nil)

    /// The factory for `.postgresql`, or nil when no PostgreSQL backend is compiled in and enabled.
    package static var postgreSQL: Factory? { postgreSQLFactory.withLock { $0 } }

    /// Makes `factory` the one `.postgresql` connections use (a later registration replaces it).
    package static func registerPostgreSQL(_ factory: @escaping Factory) {
        postgreSQLFactory.withLock { $0 = factory }
    }
}

extension ConfigurationOptions {
    /// Seconds between change checks for the backends that follow other processes
    /// (`.shared`, `.postgresql`): `notificationCheckInterval`, else the environment variable
    /// `DB_NOTIFICATION_CHECK_FREQUENCY`, else 30.
    ///
    /// - Throws: `invalidArgument` for a value that is not a positive number of seconds.
    package func resolvedNotificationCheckInterval() throws -> Double {
        try FileBackend.notificationCheckInterval(self)
    }
}
