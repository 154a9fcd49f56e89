/// The codes a ``LineupError`` carries: the seed SDK's database and 1:N codes, then the
/// engine's own. Match on them in `catch`.
public enum ErrorCode: Sendable, Equatable, Hashable, CaseIterable {
    // The seed's database and 1:N codes.

    /// The store or server named by the connection string could not be opened or created.
    case databaseConnectionError
    /// An operation needs a database connection and none has been made in this process.
    case databaseNotConnected
    /// A collection could not be created.
    case collectionCreationError
    /// The named collection does not exist in the connected database.
    case noCollectionFound
    /// A collection could not be deleted.
    case collectionDeletionError
    /// The collection exists but is not loaded, or no collection is loaded at all.
    case collectionNotLoaded
    /// Several collections are loaded and the call did not name one.
    case noCollectionSpecified
    /// No Faceprint has the given UUID or identity.
    case noRecordFound
    /// The Faceprint does not fit the collection (model name or dimension).
    case enrollmentError
    /// A required input is empty (feature vector, identity, list of names).
    case inputIsEmpty
    /// An argument is malformed or out of range.
    case invalidArgument
    /// The operation or option is not available in this build or on this backend.
    case featureNotSupported

    // The engine's own.

    /// A file of the store is damaged: a checksum, tag or cross-reference does not hold.
    case corruptStore
    /// The store is encrypted and the passphrase is missing or wrong.
    case wrongEncryptionKey
    /// Another process holds the store's lock.
    case storeLocked
    /// The operating system refused an I/O operation.
    case ioError
    /// The store was opened read-only, or turned read-only after a failed sync.
    case readOnly
    /// The store was written by a newer version of Lineup.
    case unsupportedFormatVersion

    /// The code's name as the command-line tool and logs spell it (`noCollectionFound`).
    public var name: String {
        switch self {
        case .databaseConnectionError: "databaseConnectionError"
        case .databaseNotConnected: "databaseNotConnected"
        case .collectionCreationError: "collectionCreationError"
        case .noCollectionFound: "noCollectionFound"
        case .collectionDeletionError: "collectionDeletionError"
        case .collectionNotLoaded: "collectionNotLoaded"
        case .noCollectionSpecified: "noCollectionSpecified"
        case .noRecordFound: "noRecordFound"
        case .enrollmentError: "enrollmentError"
        case .inputIsEmpty: "inputIsEmpty"
        case .invalidArgument: "invalidArgument"
        case .featureNotSupported: "featureNotSupported"
        case .corruptStore: "corruptStore"
        case .wrongEncryptionKey: "wrongEncryptionKey"
        case .storeLocked: "storeLocked"
        case .ioError: "ioError"
        case .readOnly: "readOnly"
        case .unsupportedFormatVersion: "unsupportedFormatVersion"
        }
    }
}

/// The one error type every throwing Lineup call throws.
///
/// The message explains what went wrong in words a user can act on. It never contains key
/// material, passphrases or vector values. `underlying` carries the system error number where
/// the cause is an operating-system call.
public struct LineupError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, to match on in `catch`.
    public var code: ErrorCode
    /// A human-readable explanation; never contains key material or vector values.
    public var message: String
    /// The `errno` of the failed system call, when there is one.
    public var underlyingErrno: Int32?

    public init(_ code: ErrorCode, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.underlyingErrno = errno
    }

    public var description: String { "\(code.name): \(message)" }
}
