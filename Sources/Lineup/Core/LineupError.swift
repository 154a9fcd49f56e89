#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
/// material, passphrases or vector values. `underlyingErrno` carries the system error number
/// where the cause is an operating-system call; `cause` the error this one was raised for,
/// when it wraps one ("the change was not made durable", caused by a refused write).
public struct LineupError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, to match on in `catch`.
    public var code: ErrorCode
    /// What this error says itself, without its cause's words.
    public var summary: String
    /// The `errno` of the failed system call, when there is one.
    public var underlyingErrno: Int32?
    private var causeBox: CauseBox?

    public init(_ code: ErrorCode, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.summary = message
        self.underlyingErrno = errno
    }

    /// An error raised for `cause`: its message follows this one's, and its `errno` is kept
    /// unless `errno` is given.
    public init(_ code: ErrorCode, _ summary: String, cause: LineupError, errno: Int32? = nil) {
        self.init(code, summary, errno: errno ?? cause.underlyingErrno)
        self.causeBox = CauseBox(cause)
    }

    /// The error this one was raised for.
    public var cause: LineupError? { causeBox?.error }

    /// A human-readable explanation, the cause's included; never contains key material or
    /// vector values. Setting it replaces the whole explanation (and forgets the cause).
    public var message: String {
        get {
            guard let cause else { return summary }
            return summary + ": " + cause.message
        }
        set {
            summary = newValue
            causeBox = nil
        }
    }

    public var description: String { "\(code.name): \(message)" }

    /// `error` as a LineupError: itself, or an `ioError` describing it (what the engine's own
    /// calls throw is always a LineupError; this is for the rest).
    static func from(_ error: any Error) -> LineupError {
        error as? LineupError ?? LineupError(.ioError, "\(error)")
    }

    /// Whether a full disk or an exhausted quota refused the operation: nothing was lost, and
    /// the operation can succeed once there is space (FORMAT.md §8).
    var isNoSpace: Bool {
        guard let underlyingErrno else { return false }
        return underlyingErrno == ENOSPC || underlyingErrno == EDQUOT
    }

    private final class CauseBox: Sendable, Equatable {
        let error: LineupError
        init(_ error: LineupError) { self.error = error }
        static func == (left: CauseBox, right: CauseBox) -> Bool { left.error == right.error }
    }
}
