#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The calling thread's last error message (`lineup_last_error_message`).
///
/// Each thread owns one malloc'ed, NUL-terminated buffer, kept under a pthread key whose
/// destructor frees it when the thread exits. A failed call replaces the text; a call that
/// succeeds writes an empty string into the same buffer (no allocation), so a pointer the
/// caller holds stays valid until the thread's next failed call.
enum LastError {
    /// The per-thread slot: a pointer to the buffer, whose first 8 bytes hold its capacity.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let result = pthread_key_create(&key) { buffer in free(buffer) }
        precondition(result == 0, "pthread_key_create failed")
        return key
    }()

    private static let headerBytes = 8
    private static let empty: StaticString = ""

    /// The message, or "" when there is none.
    static var message: UnsafePointer<CChar> {
        guard let buffer = pthread_getspecific(key) else {
            return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
        }
        return UnsafePointer((buffer + headerBytes).assumingMemoryBound(to: CChar.self))
    }

    /// Records `text` for the calling thread.
    static func set(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var buffer = pthread_getspecific(key)
            let capacity = buffer.map { $0.load(as: Int.self) } ?? 0
            if capacity < bytes.count + 1 {
                let newCapacity = max(256, bytes.count + 1)
                guard let grown = realloc(buffer, headerBytes + newCapacity) else {
                    // Out of memory: keep the old buffer (if any) and say so in it.
                    if let buffer { (buffer + headerBytes).storeBytes(of: 0, as: UInt8.self) }
                    return
                }
                grown.storeBytes(of: newCapacity, as: Int.self)
                pthread_setspecific(key, grown)
                buffer = grown
            }
            let start = buffer! + headerBytes
            if let base = bytes.baseAddress { start.copyMemory(from: base, byteCount: bytes.count) }
            (start + bytes.count).storeBytes(of: 0, as: UInt8.self)
        }
    }

    /// Empties the calling thread's message, if it has one.
    @inline(__always)
    static func clear() {
        guard let buffer = pthread_getspecific(key) else { return }
        (buffer + headerBytes).storeBytes(of: 0, as: UInt8.self)
    }
}

@_cdecl("lineup_last_error_message")
public func lineupLastErrorMessage() -> UnsafePointer<CChar> {
    LastError.message
}
