import Foundation

/// Online backup (FORMAT.md §14): a point-in-time copy of the whole store, taken while other
/// threads — and, in shared mode, other processes — keep writing.
///
/// **Pinning.** As the only writer (the commit lock held and, in shared mode, the store lock,
/// caught up with the other processes), the backup reads the manifest and key file, notes the
/// journal's length — which ends at a commit group, since no group is being written — opens
/// the journal and every segment the manifest names, and hard-links the segments into the
/// copy. That is all it holds the lock for: writers wait only that long. Open descriptors
/// keep the files readable even when a checkpoint or a compaction replaces them meanwhile.
///
/// **Copying.** Outside the lock, the journal's first `journalLength` bytes (never changed
/// once written: the journal only grows) and every segment not linked are copied, then the
/// key file, an empty lock file and, last, the manifest. Every file and the directory are
/// fsynced. The copy is built in a sibling directory holding the marker `BACKUP-INCOMPLETE`;
/// once complete the marker is removed and the directory renamed to its name, atomically.
///
/// **After a crash** (kill -9, power loss) the destination is absent, or complete; a sibling
/// `NAME.partial-…` may be left holding the marker, which no open accepts (it has segments
/// and no manifest, or only the marker) and `verify` reports. The source is never written.
extension Store {
    static let backupMarkerName = "BACKUP-INCOMPLETE"

    private struct PinnedFile {
        var name: String
        var descriptor: Int32
        var length: Int
        var linked: Bool
    }

    /// Copies the store into `destination`, which must not exist (its parent must). Hard
    /// links immutable segment files when the destination is on the same file system, unless
    /// `forceCopy`. `progress` hears (bytes done, bytes in all) as copying goes.
    ///
    /// - Throws: `invalidArgument` when `destination` exists or its parent does not;
    ///   `ioError` when writing the copy fails (a full disk included) — the partial copy is
    ///   removed then; `readOnly` / `storeLocked` when this connection cannot take the
    ///   writer's lock to pin a consistent snapshot.
    func backup(to destination: String, forceCopy: Bool = false,
                progress: (Int, Int) -> Void = { _, _ in }) throws -> BackupReport {
        let destination = destination.hasSuffix("/") && destination.count > 1 ? String(destination.dropLast()) : destination
        let parent = (destination as NSString).deletingLastPathComponent.isEmpty ? "." : (destination as NSString).deletingLastPathComponent
        guard fileSystem.fileType(destination) == nil else {
            throw LineupError(.invalidArgument, "\(destination) exists; a backup goes to a new directory")
        }
        guard fileSystem.fileType(parent) == .directory || fileSystem.fileType(parent) == .symbolicLink else {
            throw LineupError(.invalidArgument, "\(parent) is not a directory")
        }
        let partial = destination + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        do {
            try fileSystem.makeDirectory(partial)
        } catch let error as LineupError {
            throw LineupError(.ioError, "cannot create \(partial)", cause: error)
        }
        var pinned: [PinnedFile] = []
        // Set once the copy has its name: a failure after that (the parent's fsync) removes
        // it under that name, since its name may not be durable.
        var renamed = false
        defer { for file in pinned { fileSystem.close(file.descriptor) } }
        do {
            try writeWhole(partial + "/" + Self.backupMarkerName, [])
            try fileSystem.syncDirectory(partial)
            var manifestBytes: [UInt8] = []
            var keyBytes: [UInt8]?
            var generation: UInt64 = 0
            var journalLength = 0
            try exclusively {
                manifestBytes = try fileSystem.readWholeFile(path + "/" + FormatConstants.manifestName)
                if isEncrypted { keyBytes = try fileSystem.readWholeFile(path + "/" + FormatConstants.keyName) }
                let manifest = locked.manifest
                generation = manifest.generation
                journalLength = locked.journalLength
                let journalName = FormatConstants.journalName(manifest.journalNumber)
                pinned.append(PinnedFile(name: journalName,
                                         descriptor: try fileSystem.open(path + "/" + journalName, writable: false, create: false, exclusive: false),
                                         length: journalLength, linked: false))
                for collection in manifest.collections {
                    for segment in collection.segments {
                        let name = FormatConstants.segmentName(segment.number)
                        let descriptor = try fileSystem.open(path + "/" + name, writable: false, create: false, exclusive: false)
                        var file = PinnedFile(name: name, descriptor: descriptor, length: Int(segment.fileSize), linked: false)
                        pinned.append(file)
                        if !forceCopy {
                            file.linked = (try? fileSystem.link(path + "/" + name, to: partial + "/" + name)) != nil
                            pinned[pinned.count - 1] = file
                        }
                    }
                }
            }
            // Outside the lock: copy what was not linked.
            let total = pinned.filter { !$0.linked }.reduce(0) { $0 + $1.length }
            var done = 0
            for file in pinned where !file.linked {
                try copy(file, into: partial + "/" + file.name) { copied in progress(done + copied, total) }
                done += file.length
            }
            if let keyBytes { try writeWhole(partial + "/" + FormatConstants.keyName, keyBytes) }
            try writeWhole(partial + "/" + FormatConstants.lockName, [])
            try writeWhole(partial + "/" + FormatConstants.manifestName, manifestBytes)
            try fileSystem.syncDirectory(partial)
            try fileSystem.unlink(partial + "/" + Self.backupMarkerName)
            try fileSystem.syncDirectory(partial)
            try fileSystem.rename(partial, to: destination)
            renamed = true
            try fileSystem.syncDirectory(parent)
            progress(total, total)
            return BackupReport(filesLinked: pinned.filter(\.linked).count, filesCopied: pinned.filter { !$0.linked }.count + (keyBytes == nil ? 2 : 3),   // + LOCK, MANIFEST (, KEY)
                                bytesCopied: total, generation: generation, journalLength: journalLength)
        } catch {
            removePartialBackup(renamed ? destination : partial)
            if let error = error as? LineupError, error.code == .ioError {
                throw LineupError(.ioError, "the backup failed and was removed", cause: error)
            }
            throw error
        }
    }

    /// Copies the first `file.length` bytes of the pinned file into a new file at `target`,
    /// a MiB at a time, and makes it durable.
    private func copy(_ file: PinnedFile, into target: String, progress: (Int) -> Void) throws {
        let output = try fileSystem.open(target, writable: true, create: true, exclusive: true)
        defer { fileSystem.close(output) }
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var offset = 0
        while offset < file.length {
            let want = min(chunk, file.length - offset)
            let got = try buffer.withUnsafeMutableBytes {
                try fileSystem.read(file.descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), at: offset)
            }
            guard got == want else {
                throw LineupError(.ioError, "\(file.name) ended at \(offset + got) bytes, before the \(file.length) the snapshot holds")
            }
            try buffer.withUnsafeBytes { try fileSystem.write(output, UnsafeRawBufferPointer(rebasing: $0[0..<want]), at: offset) }
            offset += want
            progress(offset)
        }
        try fileSystem.sync(output)
    }

    private func writeWhole(_ target: String, _ bytes: [UInt8]) throws {
        let output = try fileSystem.open(target, writable: true, create: true, exclusive: true)
        defer { fileSystem.close(output) }
        try bytes.withUnsafeBytes { try fileSystem.write(output, $0, at: 0) }
        try fileSystem.sync(output)
    }

    /// Removes an unfinished copy: its files, then the directory (best effort: a failure here
    /// leaves a directory the marker still marks).
    private func removePartialBackup(_ partial: String) {
        let names = (try? fileSystem.listDirectory(partial)) ?? []
        for name in names where name != Self.backupMarkerName { try? fileSystem.unlink(partial + "/" + name) }
        try? fileSystem.unlink(partial + "/" + Self.backupMarkerName)
        try? fileSystem.removeDirectory(partial)
    }
}
