import CLineup
import Lineup
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The numbers of `lineup_status` (Bindings/C/include/lineup.h): 0 for success, then one per
/// ``ErrorCode`` case.
///
/// NEVER renumber, reorder or reuse a value: these numbers are the C ABI, compiled into
/// programs and recorded in logs. A new `ErrorCode` case gets the
/// next free number here and in the header; Tests/C/test_lineup.c checks that the two agree.
extension ErrorCode {
    var status: lineup_status {
        switch self {
        case .databaseConnectionError: 1
        case .databaseNotConnected: 2
        case .collectionCreationError: 3
        case .noCollectionFound: 4
        case .collectionDeletionError: 5
        case .collectionNotLoaded: 6
        case .noCollectionSpecified: 7
        case .noRecordFound: 8
        case .enrollmentError: 9
        case .inputIsEmpty: 10
        case .invalidArgument: 11
        case .featureNotSupported: 12
        case .corruptStore: 13
        case .wrongEncryptionKey: 14
        case .storeLocked: 15
        case .ioError: 16
        case .readOnly: 17
        case .unsupportedFormatVersion: 18
        }
    }
}

/// `lineup_status_name`'s strings: each status's ErrorCode name ("ok" for 0), NUL-terminated,
/// allocated once for the life of the process.
private struct StatusNames: @unchecked Sendable {
    /// Indexed by status; never freed, never written after initialisation.
    let pointers: [UnsafePointer<CChar>?]

    init() {
        var pointers = [UnsafePointer<CChar>?](repeating: nil, count: ErrorCode.allCases.map { Int($0.status) }.max()! + 1)
        pointers[0] = UnsafePointer(strdupOrTrap("ok"))
        for code in ErrorCode.allCases {
            precondition(pointers[Int(code.status)] == nil, "two ErrorCode cases share status \(code.status)")
            pointers[Int(code.status)] = UnsafePointer(strdupOrTrap(code.name))
        }
        self.pointers = pointers
    }
}

private let statusNames = StatusNames()

private func strdupOrTrap(_ text: String) -> UnsafeMutablePointer<CChar> {
    guard let copy = strdup(text) else { fatalError("out of memory at start-up") }
    return copy
}

/// The version of the C interface (`lineup_version`); LINEUP_ABI_VERSION is its major number.
private let interfaceVersion: StaticString = "1.0.0"

@_cdecl("lineup_version")
public func lineupVersion() -> UnsafePointer<CChar> {
    UnsafeRawPointer(interfaceVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("lineup_status_name")
public func lineupStatusName(_ status: lineup_status) -> UnsafePointer<CChar>? {
    guard status >= 0, Int(status) < statusNames.pointers.count else { return nil }
    return statusNames.pointers[Int(status)]
}
