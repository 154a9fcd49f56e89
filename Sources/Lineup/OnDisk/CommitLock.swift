#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A lock with a condition, and the value it guards: the value is reached only through
/// ``state``, and in debug builds (the test suite, the sanitizer runs) every access checks that
/// the calling thread holds the lock, so a field read outside it fails at once instead of
/// racing.
///
/// The store's commit leader gives the lock up during I/O (``unlock()`` … ``lock()``) and
/// waiters sleep in ``wait()``; neither may hold an access to ``state`` meanwhile, which the
/// accessor's scope enforces: each access lasts one expression.
final class CommitLock<State>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: State
    #if DEBUG
    /// The thread holding the lock (written only by its holder).
    private var owner: pthread_t?
    #endif

    init(_ value: State) {
        self.value = value
    }

    func lock() {
        condition.lock()
        noteHeld()
    }

    func unlock() {
        noteReleased()
        condition.unlock()
    }

    /// Gives the lock up until a ``broadcast()``, then takes it again.
    func wait() {
        noteReleased()
        condition.wait()
        noteHeld()
    }

    func broadcast() {
        condition.broadcast()
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// The guarded value; the lock must be held.
    var state: State {
        _read {
            assertHeld()
            yield value
        }
        _modify {
            assertHeld()
            yield &value
        }
    }

    @inline(__always) private func noteHeld() {
        #if DEBUG
        owner = pthread_self()
        #endif
    }

    @inline(__always) private func noteReleased() {
        #if DEBUG
        owner = nil
        #endif
    }

    @inline(__always) private func assertHeld() {
        #if DEBUG
        precondition(owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false,
                     "the store's state was reached without its commit lock")
        #endif
    }
}
