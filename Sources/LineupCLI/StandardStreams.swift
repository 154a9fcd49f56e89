#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Lineup

/// The tool's standard output and error, written with `write(2)` and nothing buffered.
///
/// Output is part of what a command does: a UUID printed by `enroll` is its acknowledgement.
/// So a write that fails — standard output closed (`EBADF`), a full disk or `/dev/full`
/// (`ENOSPC`), a reader that went away (`EPIPE`; `SIGPIPE` is ignored, see ``ignoreBrokenPipes()``)
/// — is an error like any other: the command stops and reports it, instead of trapping inside
/// a Foundation `FileHandle` or losing the text in a stdio buffer at exit.
enum StandardOutput {
    /// Writes `text` whole to descriptor 1.
    ///
    /// - Throws: `ioError` naming the reason when the write fails.
    static func write(_ text: String) throws {
        var text = text
        let failure: Int32? = text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let written = Glibc.write(1, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if written == 0 { return EIO }
                done += written
            }
            return nil
        }
        if let failure {
            throw LineupError(.ioError, "cannot write to standard output: \(String(cString: strerror(failure)))")
        }
    }

    /// A process whose output pipe is closed gets `EPIPE` from the write instead of being
    /// killed by `SIGPIPE` half way through a command.
    static func ignoreBrokenPipes() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}

enum StandardError {
    /// Writes `text` to descriptor 2, as far as it goes: when standard error itself is closed
    /// or full there is nowhere left to report that, and the exit status still tells.
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                done += written
            }
        }
    }
}
