#if canImport(Logging)
import Logging
#endif

/// Where work that no caller waits for reports its failures: a background compaction, shared
/// mode's catch-up on a timer or a directory event. Nothing is lost when they fail — the next
/// foreground call does the same work, or throws — but an operator wants to know, so each
/// failure is logged through swift-log under the label `lineup`, at `error` for a store that
/// turned read-only or is damaged and at `warning` otherwise. The program embedding Lineup
/// chooses where the lines go (`LoggingSystem.bootstrap`); by default, standard error.
/// Messages never carry key material or vector values (``LineupError``'s rule).
///
/// (The fuzz build compiles the library's sources on their own, without swift-log; there the
/// reports go nowhere.)
enum BackgroundFailures {
    #if canImport(Logging)
    static let logger = Logger(label: "lineup")
    #endif

    /// Logs `error` from the background work `what` on the store at `path`.
    static func report(_ error: any Error, while what: String, store path: String) {
        #if canImport(Logging)
        let lineupError = LineupError.from(error)
        let serious: Set<ErrorCode> = [.readOnly, .corruptStore]
        logger.log(level: serious.contains(lineupError.code) ? .error : .warning,
                   "\(what) failed: \(lineupError.message)",
                   metadata: ["store": .string(path), "code": .string(lineupError.code.name)])
        #endif
    }
}
