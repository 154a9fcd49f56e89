import Foundation
@testable import Lineup

/// A file system for tests, over the real one, that can fail the N-th call of an operation
/// and simulate a power loss.
///
/// The power-loss model (after SQLite's crash tests and RocksDB's fault-injection file
/// system): a file's *contents* are durable as of its last `sync`; a directory's *names* are
/// durable as of its last `syncDirectory`. Files are tracked as inodes, so a rename moves a
/// name, not contents. ``simulatePowerLoss(_:)`` rewrites the directory to its durable state:
/// names not made durable vanish, names made durable come back, and each file holds its last
/// synced contents, with the unsynced rest kept, dropped or garbled.
final class FaultInjectingFileSystem: FileSystem, @unchecked Sendable {
    enum Operation: Hashable, CaseIterable {
        case open, write, read, sync, truncate, rename, unlink, syncDirectory, map
    }

    enum UnsyncedData: CaseIterable {
        /// Everything written reached the disk anyway.
        case kept
        /// Only what was synced survives.
        case dropped
        /// Bytes written after the last sync survive as garbage.
        case garbled
    }

    private let base = PosixFileSystem.shared
    private let lock = NSLock()
    private var counts: [Operation: Int] = [:]
    private var failAt: [Operation: Int] = [:]
    private var failureErrno: Int32 = EIO
    private var failPersistently = false
    private var failing: Set<Operation> = []
    /// Once set, every call fails: the simulated process is dead.
    private var crashed = false
    /// Crash right after the N-th durability point (sync or syncDirectory) completes.
    private var crashAfterDurabilityPoint: Int?
    private(set) var durabilityPoints = 0

    // The inode model.
    private var nextInode = 1
    private var nameToInode: [String: Int] = [:]
    private var durableNameToInode: [String: Int] = [:]
    private var durableContents: [Int: [UInt8]] = [:]
    private var descriptorInode: [Int32: Int] = [:]
    private var descriptorPath: [Int32: String] = [:]

    /// Fails the `n`-th call (1-based, counted from now) of `operation` with `errno`; with
    /// `persistent`, every later call of it fails too.
    func fail(_ operation: Operation, at n: Int, errno: Int32 = EIO, persistent: Bool = false) {
        lock.withLock {
            counts[operation] = 0
            failAt[operation] = n
            failureErrno = errno
            failPersistently = persistent
        }
    }

    func count(_ operation: Operation) -> Int { lock.withLock { counts[operation, default: 0] } }

    /// Stops failing `operation` (space was freed, the device came back).
    func heal(_ operation: Operation) {
        lock.withLock {
            failing.remove(operation)
            failAt[operation] = nil
        }
    }

    /// Makes every call after the `n`-th durability point fail, as if the process died there.
    func crash(afterDurabilityPoint n: Int) {
        lock.withLock { crashAfterDurabilityPoint = n }
    }

    var hasCrashed: Bool { lock.withLock { crashed } }

    private func enter(_ operation: Operation) throws {
        try lock.withLock {
            if crashed { throw LineupError(.ioError, "simulated crash", errno: EIO) }
            counts[operation, default: 0] += 1
            if failing.contains(operation) && failPersistently {
                throw LineupError(.ioError, "injected failure", errno: failureErrno)
            }
            if let n = failAt[operation], counts[operation] == n {
                failing.insert(operation)
                throw LineupError(.ioError, "injected failure", errno: failureErrno)
            }
        }
    }

    private func durabilityPointPassed() {
        lock.withLock {
            durabilityPoints += 1
            if let n = crashAfterDurabilityPoint, durabilityPoints >= n { crashed = true }
        }
    }

    private func inode(for path: String) -> Int {
        if let inode = nameToInode[path] { return inode }
        // A file that existed before tracking began counts as durable as it is.
        let inode = nextInode
        nextInode += 1
        nameToInode[path] = inode
        durableNameToInode[path] = inode
        durableContents[inode] = (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } ?? []
        return inode
    }

    // MARK: FileSystem

    func open(_ path: String, writable: Bool, create: Bool, exclusive: Bool) throws -> Int32 {
        try enter(.open)
        let existed = base.fileType(path) != nil
        let descriptor = try base.open(path, writable: writable, create: create, exclusive: exclusive)
        lock.withLock {
            let inode: Int
            if !existed {
                inode = nextInode
                nextInode += 1
                nameToInode[path] = inode
                durableContents[inode] = nil
            } else {
                inode = self.inode(for: path)
            }
            descriptorInode[descriptor] = inode
            descriptorPath[descriptor] = path
        }
        return descriptor
    }

    func close(_ descriptor: Int32) {
        lock.withLock {
            descriptorInode[descriptor] = nil
            descriptorPath[descriptor] = nil
        }
        base.close(descriptor)
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        try enter(.write)
        try base.write(descriptor, bytes, at: offset)
    }

    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        try enter(.read)
        return try base.read(descriptor, into: buffer, at: offset)
    }

    /// Whether `sync` also calls the real fsync. The simulation tracks durability itself, so
    /// crash trials skip it and run at memory speed.
    var realSync = false

    func sync(_ descriptor: Int32) throws {
        try enter(.sync)
        if realSync { try base.sync(descriptor) }
        let size = try base.size(descriptor)
        var contents = [UInt8](repeating: 0, count: size)
        _ = try contents.withUnsafeMutableBytes { try base.read(descriptor, into: $0, at: 0) }
        lock.withLock {
            if let inode = descriptorInode[descriptor] { durableContents[inode] = contents }
        }
        durabilityPointPassed()
    }

    func truncate(_ descriptor: Int32, to length: Int) throws {
        try enter(.truncate)
        try base.truncate(descriptor, to: length)
    }

    func size(_ descriptor: Int32) throws -> Int { try base.size(descriptor) }

    func rename(_ from: String, to: String) throws {
        try enter(.rename)
        try base.rename(from, to: to)
        lock.withLock {
            nameToInode[to] = nameToInode.removeValue(forKey: from) ?? inode(for: to)
        }
    }

    func unlink(_ path: String) throws {
        try enter(.unlink)
        try base.unlink(path)
        _ = lock.withLock { nameToInode.removeValue(forKey: path) }
    }

    func syncDirectory(_ path: String) throws {
        try enter(.syncDirectory)
        if realSync { try base.syncDirectory(path) }
        lock.withLock {
            let prefix = path.hasSuffix("/") ? path : path + "/"
            durableNameToInode = durableNameToInode.filter { !$0.key.hasPrefix(prefix) }
            for (name, inode) in nameToInode where name.hasPrefix(prefix) { durableNameToInode[name] = inode }
        }
        durabilityPointPassed()
    }

    func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
    func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    func fileType(_ path: String) -> FileType? { base.fileType(path) }

    func map(_ descriptor: Int32, length: Int) throws -> MappedRegion {
        try enter(.map)
        return try base.map(descriptor, length: length)
    }

    func lock(_ descriptor: Int32, exclusive: Bool, wait: Bool) throws -> Bool {
        try base.lock(descriptor, exclusive: exclusive, wait: wait)
    }

    func unlock(_ descriptor: Int32) { base.unlock(descriptor) }

    // MARK: Power loss

    /// Takes every file now in directory `path` as durable, names and contents, at once (files
    /// are otherwise adopted when first touched): for a store made before this file system
    /// began watching, that may die before touching all of its files.
    func adoptDurable(_ path: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            lock.withLock { _ = inode(for: path + "/" + name) }
        }
    }

    /// Rewrites directory `path` to what a power loss right now would leave (see the type's
    /// documentation). Call after every handle on the store is closed or abandoned.
    func simulatePowerLoss(_ path: String, unsynced: UnsyncedData, seed: UInt64 = 1) throws {
        let prefix = path + "/"
        let (durableNames, contents, currentNames) = lock.withLock {
            (durableNameToInode.filter { $0.key.hasPrefix(prefix) }, durableContents, nameToInode)
        }
        var generator = SeededGenerator(seed: seed)
        // Current bytes of every inode that still has a name, to keep or garble.
        var current: [Int: [UInt8]] = [:]
        for (name, inode) in currentNames where name.hasPrefix(prefix) {
            current[inode] = (try? Data(contentsOf: URL(fileURLWithPath: name))).map { [UInt8]($0) }
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            try FileManager.default.removeItem(atPath: prefix + name)
        }
        for (name, inode) in durableNames {
            let synced = contents[inode] ?? []
            var bytes: [UInt8]
            switch unsynced {
            case .dropped:
                bytes = synced
            case .kept:
                bytes = current[inode] ?? synced
            case .garbled:
                bytes = synced
                if let now = current[inode], now.count > synced.count {
                    bytes += (synced.count..<now.count).map { _ in UInt8.random(in: 0...255, using: &generator) }
                }
            }
            _ = FileManager.default.createFile(atPath: name, contents: Data(bytes))
        }
    }
}
