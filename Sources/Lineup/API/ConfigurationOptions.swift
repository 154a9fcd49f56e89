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

/// How a collection stores its vectors. Vectors are always L2-normalised first.
public enum VectorCompression: String, Sendable, Equatable, Hashable, CaseIterable {
    /// 32-bit floats: 4 bytes a dimension, exact.
    case none
    /// IEEE 754 half-precision floats: 2 bytes a dimension.
    case fp16
    /// Signed 8-bit integers with one scale per vector: 1 byte a dimension (plus 4 a vector).
    case int8

    /// Stored bytes per dimension.
    public var bytesPerDimension: Int {
        switch self {
        case .none: 4
        case .fp16: 2
        case .int8: 1
        }
    }
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
