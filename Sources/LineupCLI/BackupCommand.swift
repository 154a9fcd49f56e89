#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import Foundation
import Lineup

/// `lineup backup`: an online, point-in-time copy of a store.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a store as of one moment, while other connections keep writing.",
        discussion: """
            DEST must not exist; the copy is built beside it and appears under its name only once \
            complete and durable. Segment files are hard-linked when DEST is on the store's file \
            system (--copy copies them), the journal copied up to the last commit. The copy opens on \
            its own and verifies clean; an encrypted store's copy keeps its passphrase. To restore, \
            open the copy (or move it where the store was). Beside a process that has the store open \
            in shared mode, give --shared too.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The new directory for the copy.") var destination: String
    @Flag(help: "Copy every file, even where hard links would do.") var copy = false

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect()
            let showProgress = isatty(2) == 1
            var last = ContinuousClock.now
            let report = try sdk.backup(to: destination, forceCopy: copy) { done, total in
                guard showProgress, total > 0 else { return }
                let now = ContinuousClock.now
                guard now - last > .milliseconds(200) || done == total else { return }
                last = now
                StandardError.write(String(format: "\rcopied %.1f / %.1f MB", Double(done) / 1e6, Double(total) / 1e6))
            }
            if showProgress && report.bytesCopied > 0 { StandardError.write("\n") }
            try emit("backed up to \(destination): \(report.filesLinked) files linked, \(report.filesCopied) copied (\(report.bytesCopied) bytes), generation \(report.generation)")
        }
    }
}
