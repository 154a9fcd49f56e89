import Foundation

/// Shared mode (`DatabaseManagementSystem.shared`) and catching up with other processes
/// (FORMAT.md, "Sharing a store").
///
/// **Writers** in any number of processes serialise on the `flock` of `LOCK`, taken for one
/// write at a time (a commit, a checkpoint, a catalog change, an import; a whole compaction).
/// Holding it, a writer first catches up with what the others wrote — new journal records,
/// or a replaced manifest — and, since no other writer can be in the middle of a write, cuts
/// a torn journal tail left by one that died (kill -9 included: the kernel releases its lock).
/// Only then does it validate and write its own change.
///
/// **Readers** never take the lock. Every process catches up on its own schedule: in shared
/// mode every `notificationCheckInterval` seconds and when the directory changes (inotify, on
/// Linux); in `.file` mode each time a collection is loaded. Catching up reads the manifest
/// (a few hundred bytes) and, when its generation is unchanged, only the journal bytes after
/// the last record applied; a new generation (a checkpoint, an import, a compaction, a
/// catalog change) reloads the catalog, reusing every segment already mapped.
extension Store {
    /// Takes the store lock for this process (if it does not hold it already) and catches up.
    /// Called by the leader, the commit lock held; it is given up meanwhile.
    func acquireSharedLock() throws {
        locked.sharedLockDepth += 1
        guard locked.sharedLockDepth == 1 else { return }
        let lockDescriptor = locked.lockDescriptor
        commitLock.unlock()
        var outcome: Error?
        do {
            guard let descriptor = lockDescriptor else { throw LineupError(.readOnly, "the store was opened read-only") }
            _ = try fileSystem.lock(descriptor, exclusive: true, wait: true)
            do {
                try catchUp(repair: true)
            } catch {
                fileSystem.unlock(descriptor)
                throw error
            }
        } catch {
            outcome = error
        }
        commitLock.lock()
        if let outcome {
            locked.sharedLockDepth -= 1
            throw outcome
        }
    }

    /// Gives the store lock back when this was the outermost hold. The commit lock held.
    func releaseSharedLock() {
        if locked.sharedLockReleasedEarly {
            locked.sharedLockReleasedEarly = false
            return
        }
        locked.sharedLockDepth -= 1
        if locked.sharedLockDepth == 0, let descriptor = locked.lockDescriptor { fileSystem.unlock(descriptor) }
    }

    /// Gives the outermost hold of the store lock back before its holder is done (a commit
    /// group written, its fsync still to come); the holder's ``releaseSharedLock()`` is then a
    /// no-op. Called by the leader without the commit lock; this process's other threads stay
    /// out until the leader has finished.
    func releaseSharedLockEarly() {
        commitLock.withLock {
            guard locked.sharedLockDepth == 1, let descriptor = locked.lockDescriptor else { return }
            locked.sharedLockDepth = 0
            locked.sharedLockReleasedEarly = true
            fileSystem.unlock(descriptor)
        }
    }

    /// Holds the store lock across several operations (a compaction in shared mode), while
    /// this process's other threads keep writing under it.
    func holdSharedLock() throws {
        commitLock.lock()
        defer { commitLock.unlock() }
        waitForLeader()
        try checkWritable()
        try asLeader { try acquireSharedLock() }
    }

    func dropSharedLock() {
        commitLock.lock()
        defer { commitLock.unlock() }
        // Not while another thread of this process is between catching up and writing.
        waitForLeader()
        releaseSharedLock()
    }

    /// Catches up with changes other processes made, without taking the store lock.
    func sync() throws {
        // Whether there is anything new (usually not: this process's own commits wake the
        // directory watch too) is decided before becoming the leader, so that this process's
        // writers never wait for the answer.
        guard hasNews() else { return }
        commitLock.lock()
        waitForLeader()
        if locked.closed {
            commitLock.unlock()
            return
        }
        locked.leaderActive = true
        // Repairs only while this process holds the store lock, which cannot be given back
        // while this thread is the leader.
        let repair = locked.sharedLockDepth > 0
        commitLock.unlock()
        defer {
            commitLock.withLock {
                locked.leaderActive = false
                commitLock.broadcast()
            }
        }
        try catchUp(repair: repair)
    }
}
