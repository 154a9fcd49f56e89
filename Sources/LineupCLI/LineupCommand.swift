import ArgumentParser
import Foundation
import Lineup

@main
struct LineupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineup",
        abstract: "Lineup: an embedded store and 1:N matcher for face-recognition templates.",
        discussion: """
            Encrypted stores read their passphrase from --passphrase-file FILE or the \
            environment variable LINEUP_PASSPHRASE. Errors print one line starting with \
            "error:" to standard error and exit non-zero.
            """,
        subcommands: [
            DemoCommand.self,
            CreateCommand.self, ImportCommand.self, EnrollCommand.self, IdentifyCommand.self,
            RemoveCommand.self, CollectionsCommand.self, InfoCommand.self, IdentitiesCommand.self,
            VerifyCommand.self, DumpCommand.self, ExportCommand.self, BackupCommand.self, CompactCommand.self, RekeyCommand.self, WatchCommand.self,
            CalibrateCommand.self, ServeCommand.self,
        ]
    )

    /// Parses the arguments and runs the command. A usage mistake the argument parser finds (an
    /// unknown option, a value that does not parse, a missing argument, a failed validation) is
    /// reported like every other error: one `error:` line on standard error, exit status 1.
    /// Help and version still print in full.
    static func main() {
        StandardOutput.ignoreBrokenPipes()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let status as ExitCode {
            exit(withError: status)   // already reported
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            StandardError.write("error: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)\n")
            exit(withError: ExitCode(1))
        }
    }
}

/// Runs `body`, turning a ``LineupError`` into the CLI's one-line `error:` report and a
/// non-zero exit.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as LineupError {
        StandardError.write("error: \(error.message) (\(error.code.name))\n")
        throw ExitCode(exitStatus(for: error.code))
    }
}

/// Exit statuses: 1 for bad input and missing things, 2 for a damaged or unreadable store,
/// 3 for features this build lacks.
func exitStatus(for code: ErrorCode) -> Int32 {
    switch code {
    case .corruptStore, .wrongEncryptionKey, .unsupportedFormatVersion, .ioError: 2
    case .featureNotSupported: 3
    default: 1
    }
}

