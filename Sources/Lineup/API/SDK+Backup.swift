extension SDK {
    /// A consistent point-in-time copy of the connected store in the new directory `path`:
    /// every collection as of one commit (no torn commit group), taken while other threads
    /// and processes keep writing — they wait only while the snapshot is pinned, not while it
    /// is copied. Segment files are hard-linked when `path` is on the store's file system
    /// (they are immutable), and copied otherwise. Every file and directory of the copy is
    /// fsynced before the call returns. The copy opens on its own, verifies clean, and an
    /// encrypted store's copy stays encrypted under the same passphrase.
    ///
    /// A restore is opening the copy: connect to `path` (or move it where the store was).
    ///
    /// - Throws: `invalidArgument` when `path` exists or its parent does not; `ioError` when
    ///   writing the copy fails (nothing of it is left then); `readOnly` or `storeLocked` when
    ///   this connection cannot take the writer's lock (open it writable, or in shared mode
    ///   beside the writer); `featureNotSupported` for `.none` and `.postgresql`.
    public func backup(to path: String) throws {
        _ = try backup(to: path, forceCopy: false)
    }

    /// ``backup(to:)`` with its options: `forceCopy` copies every file (no hard links), and
    /// `progress` hears (bytes copied, bytes to copy) as the copy goes.
    public func backup(to path: String, forceCopy: Bool,
                       progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> BackupReport {
        guard !path.isEmpty else { throw LineupError(.inputIsEmpty, "the backup path is empty") }
        return try connection().backend.backup(to: path, forceCopy: forceCopy, progress: progress)
    }
}
