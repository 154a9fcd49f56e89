import Foundation

/// Where a process's collections live, following the seed SDK's three database options.
public enum DatabaseManagementSystem: Sendable, Equatable, Hashable {
    /// Memory only. `createDatabaseConnection` is a harmless no-op: the process's one in-memory
    /// database (alive until the process exits) becomes the connection. Nothing persists.
    case none
    /// An on-disk store with single-process semantics (the seed's SQLite behaviour): another
    /// process sees changes only when it loads the collection again.
    case file
    /// An on-disk store with multi-process semantics (the seed's PostgreSQL behaviour): every
    /// process connected to the store receives changes automatically.
    case shared
    /// A real PostgreSQL server, addressed by a libpq conninfo string. Compiled in only by the
    /// package trait `PostgreSQL` (then available to every program depending on the library
    /// product `Lineup`, with no other import or call); without it, connecting throws
    /// `featureNotSupported`.
    case postgresql
}

/// The settings of an ``SDK`` instance. A value type: copy it, change it, pass it to `SDK.init`.
public struct ConfigurationOptions: Sendable, Equatable {
    /// The database option used by `createDatabaseConnection`.
    public var dbms: DatabaseManagementSystem = .file
    /// The face-recognition model name that new collections record.
    public var frModel: String = "TFV5_2"
    /// The vector compression that new collections record.
    public var vectorCompression: VectorCompression = .none
    /// The passphrase of an encrypted store; `nil` means not encrypted.
    public var encryptionKey: String? = nil
    /// Seconds between change checks in `.shared` mode; `nil` means the environment variable
    /// `DB_NOTIFICATION_CHECK_FREQUENCY` (seconds, fractions allowed), else 30.
    public var notificationCheckInterval: Double? = nil
    /// Open the store without writing a byte (`.file`): no lock, no recovery writes, no new
    /// files; every change throws `readOnly`. For forensic work on evidence.
    public var readOnly: Bool = false
    /// What an acknowledged change survives (`.file`); see ``Durability``.
    public var durability: Durability = .full
    /// Whether a writable on-disk store compacts on its own, in the background, once a quarter
    /// of a segment is removed (`.file`). `SDK.compact` works either way.
    public var automaticCompaction: Bool = true

    public init() {}
}

/// How far an acknowledged change survives (FORMAT.md, "Durability").
public enum Durability: Sendable, Equatable {
    /// Every commit group is fsynced before any of its calls returns: an acknowledged change
    /// survives a process crash and a power loss. The default.
    case full
    /// Commit groups are written to the journal but not fsynced: an acknowledged change
    /// survives a crash of the process (the kernel holds the written pages), not a power loss
    /// or a kernel crash, which may lose the most recent changes (never corrupt older ones).
    case processCrash
}

extension ConfigurationOptions {
    /// The intervals accepted: a millisecond (shorter would spin) to a year (longer would
    /// overflow the timer's nanoseconds).
    package static let notificationCheckIntervals: ClosedRange<Double> = 0.001...31_536_000

    /// Seconds between change checks for the backends that follow other processes
    /// (`.shared`, `.postgresql`): `notificationCheckInterval`, else the environment variable
    /// `DB_NOTIFICATION_CHECK_FREQUENCY` (seconds, fractions allowed), else 30.
    ///
    /// - Throws: `invalidArgument` for a value outside ``notificationCheckIntervals``.
    package func resolvedNotificationCheckInterval() throws -> Double {
        if let value = notificationCheckInterval {
            guard ConfigurationOptions.notificationCheckIntervals.contains(value) else {
                throw LineupError(.invalidArgument, "notificationCheckInterval must be 0.001…31,536,000 seconds")
            }
            return value
        }
        if let text = ProcessInfo.processInfo.environment["DB_NOTIFICATION_CHECK_FREQUENCY"] {
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), ConfigurationOptions.notificationCheckIntervals.contains(value) else {
                throw LineupError(.invalidArgument, "DB_NOTIFICATION_CHECK_FREQUENCY must be 0.001…31,536,000 seconds, not \(text.prefix(64))")
            }
            return value
        }
        return 30
    }
}
