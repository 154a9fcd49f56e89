#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Every system call the on-disk engine makes goes through this one thin layer, so that tests
/// can swap it for one that injects faults (short writes, ENOSPC, EIO on write or on fsync) or
/// simulates a crash by dropping what was never synced.
///
/// Implementations are thread-safe. Errors are ``LineupError``s with code `ioError` and the
/// `errno` of the failed call, except where a method says otherwise.
protocol FileSystem: Sendable {
    /// Opens `path`. `create` makes it when missing, with `mode` permissions.
    func open(_ path: String, writable: Bool, create: Bool, exclusive: Bool) throws -> Int32
    func close(_ descriptor: Int32)
    /// Writes all of `bytes` at `offset`; a short write is retried until complete or failed.
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws
    /// Reads up to `buffer.count` bytes at `offset`; returns how many (fewer only at end of file).
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int
    /// Makes the file's data durable. After a failure the caller must not retry (FORMAT.md,
    /// "Durability"): the kernel may have dropped the dirty pages it could not write.
    func sync(_ descriptor: Int32) throws
    func truncate(_ descriptor: Int32, to length: Int) throws
    func size(_ descriptor: Int32) throws -> Int
    /// Atomically replaces `to` with `from` (same directory).
    func rename(_ from: String, to: String) throws
    func unlink(_ path: String) throws
    /// Makes the directory's entries (creations, renames, removals) durable.
    func syncDirectory(_ path: String) throws
    func makeDirectory(_ path: String) throws
    /// The names in a directory, without `.` and `..`.
    func listDirectory(_ path: String) throws -> [String]
    /// Whether `path` exists, and whether it is a directory; `nil` when missing. Symbolic
    /// links are not followed.
    func fileType(_ path: String) -> FileType?
    /// Maps `length` bytes of the file read-only.
    func map(_ descriptor: Int32, length: Int) throws -> MappedRegion
    /// Takes an advisory lock on the whole file (`flock`: per open file, never per process,
    /// so two connections in one process exclude each other too). Returns false when another
    /// holder has it and `wait` is false.
    func lock(_ descriptor: Int32, exclusive: Bool, wait: Bool) throws -> Bool
    func unlock(_ descriptor: Int32)
    /// Makes `to` a second name of the file `from` (a hard link; no bytes copied). Throws
    /// `ioError` where that cannot be done (another file system: `EXDEV`), and callers copy.
    func link(_ from: String, to: String) throws
    /// Removes an empty directory.
    func removeDirectory(_ path: String) throws
    /// How many names the open file has: 0 once it was unlinked or renamed over. Nil when it
    /// cannot be told.
    func linkCount(_ descriptor: Int32) -> Int?
    /// The inode, size and modification time of `path` (not following a symbolic link); nil
    /// when it is missing.
    func stamp(_ path: String) -> FileStamp?
    /// A descriptor that becomes readable when the directory `path` changes (an entry created
    /// or renamed into it, a file in it written or closed after writing): inotify on Linux.
    /// Nil where the platform has no such watch or it cannot be set up; the caller then polls.
    /// Read its events away with ``drainWatch(_:)`` and close it with ``close(_:)``.
    func watchDirectory(_ path: String) -> Int32?
    /// Reads away every event waiting on a descriptor from ``watchDirectory(_:)``.
    func drainWatch(_ descriptor: Int32)
    /// `path` absolute, with symbolic links, `.` and `..` resolved, to recognise one store
    /// reached by two paths; `path` standardised when it cannot be resolved.
    func canonicalPath(_ path: String) -> String
}

extension FileSystem {
    // Wrappers over the real file system (the tests' fault injectors) reach these directly.

    func stamp(_ path: String) -> FileStamp? { PosixFileSystem.shared.stamp(path) }
    func watchDirectory(_ path: String) -> Int32? { PosixFileSystem.shared.watchDirectory(path) }
    func drainWatch(_ descriptor: Int32) { PosixFileSystem.shared.drainWatch(descriptor) }
    func canonicalPath(_ path: String) -> String { PosixFileSystem.shared.canonicalPath(path) }

    /// File systems that do not link say so, and callers copy instead.
    func link(_ from: String, to: String) throws {
        throw LineupError(.ioError, "cannot link \(from): not supported here", errno: EXDEV)
    }

    func removeDirectory(_ path: String) throws {
        if rmdir(path) != 0 && errno != ENOENT {
            throw LineupError(.ioError, "cannot remove \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
    }

    func linkCount(_ descriptor: Int32) -> Int? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        return Int(status.st_nlink)
    }
}

extension FileSystem {
    /// The whole of the file at `path`.
    ///
    /// - Throws: `ioError` when it cannot be opened or read, or changes size while being read.
    func readWholeFile(_ path: String) throws -> [UInt8] {
        let descriptor = try open(path, writable: false, create: false, exclusive: false)
        defer { close(descriptor) }
        let size = try size(descriptor)
        var bytes = [UInt8](repeating: 0, count: size)
        let got = try bytes.withUnsafeMutableBytes { try read(descriptor, into: $0, at: 0) }
        guard got == size else { throw LineupError(.ioError, "\(path) changed while being read") }
        return bytes
    }
}

enum FileType: Equatable, Sendable {
    case regular, directory, symbolicLink, other
}

/// A read-only memory mapping, unmapped when the last reference goes. Bytes are reached only
/// inside ``withUnsafeBytes(_:)``.
final class MappedRegion: @unchecked Sendable {
    private let base: UnsafeRawPointer?
    let count: Int
    private let unmap: @Sendable (UnsafeRawPointer, Int) -> Void
    /// For a mapping of a file: lets the kernel drop the pages of a range from this process
    /// (they are read again from the file when next touched). Nil for memory that holds the
    /// only copy of its bytes (decrypted segments), which must never be dropped.
    private let dropPages: (@Sendable (UnsafeRawPointer, Int) -> Void)?

    init(base: UnsafeRawPointer?, count: Int, dropPages: (@Sendable (UnsafeRawPointer, Int) -> Void)? = nil,
         unmap: @escaping @Sendable (UnsafeRawPointer, Int) -> Void) {
        self.base = base
        self.count = count
        self.dropPages = dropPages
        self.unmap = unmap
    }

    /// Gives back the resident pages of `range` where the mapping is of a file (a pass over
    /// a gallery larger than memory, such as an export, keeps only what it is reading); does
    /// nothing otherwise.
    func releasePages(_ range: Range<Int>) {
        guard let base, let dropPages, !range.isEmpty else { return }
        let page = 4096
        let start = (range.lowerBound + page - 1) / page * page   // whole pages inside the range only
        let end = min(count, range.upperBound) / page * page
        if end > start { dropPages(base + start, end - start) }
    }

    deinit {
        if let base { unmap(base, count) }
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The address of byte `offset`, for block sources that hand it to the matcher inside
    /// their own `with…` closures.
    func address(_ offset: Int) -> UnsafeRawPointer {
        precondition(offset >= 0 && offset <= count)
        return base! + offset
    }
}

/// Keeps the engine's descriptors off 0, 1 and 2.
///
/// A process started with standard input, output or error closed (by a supervisor, a daemon
/// launcher or `cmd >&-`) hands the lowest free numbers to the next `open`: a store's `LOCK`
/// file would become standard output and the journal standard error, and the first `print`
/// or error message would be written into them, over acknowledged data. So every descriptor
/// the engine opens passes through ``aboveStandardDescriptors(_:)``: one that landed on 0–2 is
/// moved to 3 or above, and `/dev/null` (opened read-only, so writes to it fail with `EBADF`
/// instead of vanishing) is parked in every free standard slot for the rest of the process,
/// so no later `open` of anyone's can land there either.
enum StandardDescriptors {
    /// Fills every free descriptor of 0, 1 and 2 with `/dev/null`, read-only. Safe to call
    /// any number of times from any thread.
    static func reserve() {
        while true {
            let spare = Glibc.open("/dev/null", O_RDONLY)
            if spare < 0 { return }
            if spare > 2 { _ = Glibc.close(spare); return }
            // A standard slot was free: it keeps /dev/null; look for the next one.
        }
    }

    /// `descriptor`, or a duplicate of it at 3 or above when it is 0, 1 or 2 (then the
    /// original slot holds `/dev/null`). Returns -1 with `errno` set when no duplicate can be
    /// made (the original is closed then).
    static func aboveStandardDescriptors(_ descriptor: Int32) -> Int32 {
        guard descriptor >= 0, descriptor <= 2 else { return descriptor }
        let moved = fcntl(descriptor, F_DUPFD_CLOEXEC, 3)
        let saved = errno
        // Replace the low slot atomically (dup2), so no other thread can take it meanwhile.
        var spare = Glibc.open("/dev/null", O_RDONLY)
        while spare >= 0 && spare <= 2 { spare = Glibc.open("/dev/null", O_RDONLY) }
        if spare >= 0 {
            _ = dup2(spare, descriptor)
            _ = Glibc.close(spare)
        } else {
            _ = Glibc.close(descriptor)
        }
        errno = saved
        return moved
    }
}

/// The real file system, through POSIX calls.
struct PosixFileSystem: FileSystem {
    static let shared = PosixFileSystem()

    private func failure(_ what: String, _ path: String = "") -> LineupError {
        let number = errno
        let reason = String(cString: strerror(number))
        return LineupError(.ioError, "\(what)\(path.isEmpty ? "" : " \(path)"): \(reason)", errno: number)
    }

    func open(_ path: String, writable: Bool, create: Bool, exclusive: Bool) throws -> Int32 {
        var flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        // Reads leave the access time alone: with `relatime`, reading a file written since it
        // was last read dirties its inode, so in shared mode every catch-up's read of the
        // journal would add an inode write to the next commit's fsync. Only the file's owner
        // may ask (EPERM otherwise: then without).
        var noAccessTime: Int32 = 0o1_000_000   // O_NOATIME (asm-generic; Glibc's module omits it)
        #else
        var noAccessTime: Int32 = 0
        #endif
        while true {
            let descriptor = StandardDescriptors.aboveStandardDescriptors(Glibc.open(path, flags | noAccessTime, 0o600))
            if descriptor >= 0 {
                // 0600 whatever the umask: the umask may only have taken bits away.
                if create { _ = fchmod(descriptor, 0o600) }
                return descriptor
            }
            if errno == EINTR { continue }
            if errno == EPERM && noAccessTime != 0 {
                noAccessTime = 0
                continue
            }
            throw failure("cannot open", path)
        }
    }

    func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("write failed")
            }
            if written == 0 { throw LineupError(.ioError, "write made no progress", errno: EIO) }
            done += written
        }
    }

    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw failure("read failed")
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    func sync(_ descriptor: Int32) throws {
        if fsync(descriptor) != 0 { throw failure("fsync failed") }
    }

    func truncate(_ descriptor: Int32, to length: Int) throws {
        if ftruncate(descriptor, off_t(length)) != 0 { throw failure("truncate failed") }
    }

    func size(_ descriptor: Int32) throws -> Int {
        var status = stat()
        if fstat(descriptor, &status) != 0 { throw failure("stat failed") }
        return Int(status.st_size)
    }

    func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 { throw failure("cannot rename", from) }
    }

    func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw failure("cannot remove", path) }
    }

    func syncDirectory(_ path: String) throws {
        let descriptor = StandardDescriptors.aboveStandardDescriptors(Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        if descriptor < 0 { throw failure("cannot open directory", path) }
        defer { _ = Glibc.close(descriptor) }
        if fsync(descriptor) != 0 { throw failure("fsync of directory failed", path) }
    }

    func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 {
            _ = chmod(path, 0o700)   // whatever the umask
        } else if errno != EEXIST {
            throw failure("cannot create directory", path)
        }
    }

    func listDirectory(_ path: String) throws -> [String] {
        let descriptor = StandardDescriptors.aboveStandardDescriptors(
            Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        guard descriptor >= 0 else { throw failure("cannot list", path) }
        guard let directory = fdopendir(descriptor) else {
            let error = failure("cannot list", path)
            _ = Glibc.close(descriptor)
            throw error
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    func fileType(_ path: String) -> FileType? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = Int(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int(info.st_mtimespec.tv_nsec)
        #else
        let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        #endif
        return FileStamp(inode: UInt64(info.st_ino), size: Int(info.st_size), modified: modified)
    }

    func watchDirectory(_ path: String) -> Int32? {
        #if os(Linux)
        let descriptor = StandardDescriptors.aboveStandardDescriptors(inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)))
        guard descriptor >= 0 else { return nil }
        let mask = UInt32(IN_MODIFY | IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)
        guard inotify_add_watch(descriptor, path, mask) >= 0 else {
            _ = Glibc.close(descriptor)
            return nil
        }
        return descriptor
        #else
        return nil
        #endif
    }

    func drainWatch(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ Glibc.read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }

    func canonicalPath(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    func map(_ descriptor: Int32, length: Int) throws -> MappedRegion {
        guard length > 0 else { return MappedRegion(base: nil, count: 0, unmap: { _, _ in }) }
        let address = mmap(nil, length, PROT_READ, MAP_SHARED, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw failure("mmap failed") }
        return MappedRegion(base: UnsafeRawPointer(address), count: length, dropPages: { base, count in
            _ = madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_DONTNEED)
        }) { base, count in
            _ = munmap(UnsafeMutableRawPointer(mutating: base), count)
        }
    }

    func lock(_ descriptor: Int32, exclusive: Bool, wait: Bool) throws -> Bool {
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        while true {
            if flock(descriptor, operation) == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw failure("cannot lock")
        }
    }

    func unlock(_ descriptor: Int32) {
        _ = flock(descriptor, LOCK_UN)
    }

    func link(_ from: String, to: String) throws {
        if Glibc.link(from, to) != 0 { throw failure("cannot link", from) }
    }

    func removeDirectory(_ path: String) throws {
        if rmdir(path) != 0 && errno != ENOENT { throw failure("cannot remove", path) }
    }
}

extension FileSystem {
    /// Replaces `directory/name` with `bytes` durably and atomically: a temporary file,
    /// fsync, rename, fsync of the directory. A crash leaves the old file or the new one.
    func replaceFile(in directory: String, name: String, temporaryName: String, bytes: [UInt8]) throws {
        let temporary = directory + "/" + temporaryName
        try? unlink(temporary)
        let descriptor = try open(temporary, writable: true, create: true, exclusive: true)
        do {
            try bytes.withUnsafeBytes { try write(descriptor, $0, at: 0) }
            try sync(descriptor)
            close(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        try rename(temporary, to: directory + "/" + name)
        try syncDirectory(directory)
    }
}
