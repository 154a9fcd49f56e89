import ArgumentParser
import Dispatch
import Foundation
import Lineup
import LineupServer
import Logging
import Synchronization

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store over HTTP: enroll, remove and identify for edge devices (API.md §3).",
        discussion: """
            Opens the store (a directory; with --shared, one that several `lineup serve` processes \
            on this machine share, each receiving the others' changes; with --postgresql, a libpq \
            conninfo string, for servers on many machines), loads every collection and serves \
            the routes under /v1 until SIGTERM or SIGINT: then it stops accepting, finishes what \
            is in flight, closes the store and exits 0.

            Standard output gets one line, "listening on http://HOST:PORT", once the socket is \
            bound (with --listen 127.0.0.1:0 the system picks the port). Standard error gets \
            one access-log line a request: method, route, status, duration, bytes in and out.

            Security: it listens on 127.0.0.1 unless --listen names another address. With \
            --token-file, every route but /v1/health needs "Authorization: Bearer TOKEN" with a \
            token of the file (one a line); tokens of --read-only-token-file may only read and \
            identify. Put it behind TLS with --tls-cert and --tls-key (PEM files).

            Examples:
              lineup create /data/gallery staff
              lineup serve /data/gallery --listen 0.0.0.0:8443 --token-file tokens.txt \\
                --tls-cert cert.pem --tls-key key.pem
              curl -s localhost:8080/v1/collections/staff/identify \\
                -d '{"feature_vector": [0.1, 0.2, ...], "top": 3}'
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "The address and port to listen on (IPv6 in brackets: [::1]:8080).")
    var listen = "127.0.0.1:8080"

    @Option(name: .customLong("token-file"), help: "A file of bearer tokens (one a line) that may do everything.")
    var tokenFile: String?

    @Option(name: .customLong("read-only-token-file"), help: "A file of bearer tokens that may only read and identify.")
    var readOnlyTokenFile: String?

    @Option(name: .customLong("tls-cert"), help: "The PEM certificate chain: serve HTTPS (needs --tls-key).")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("max-body-bytes"), help: "The largest request body taken; larger ones get 413.")
    var maxBodyBytes = 64 << 20

    @Option(name: .customLong("max-in-flight"), help: "Requests served at once; more get 503 with Retry-After.")
    var maxInFlight = 256

    @Option(name: .customLong("idle-timeout"), help: "Seconds a silent or stalled connection is kept open.")
    var idleTimeout: Double = 30

    @Flag(name: .customLong("no-coalesce"), help: "Run every single-probe identification and single enrollment on its own instead of batching concurrent ones.")
    var noCoalesce = false

    func run() throws {
        try reportingErrors {
            let configuration = try makeConfiguration()
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .info
                return handler
            }
            let logger = Logger(label: "lineup.serve")
            let sdk = try storeOptions.connect()
            defer { sdk.closeDatabaseConnection() }
            let names = try sdk.getCollectionNames()
            if !names.isEmpty { try sdk.loadCollections(names) }

            let outcome = Mutex<LineupError?>(nil)
            let done = DispatchSemaphore(value: 0)
            Task.detached {
                do {
                    try await LineupHTTPServer.run(sdk: sdk, configuration: configuration, logger: logger) { line in
                        // The acknowledgement a supervisor or test waits for; a closed
                        // standard output must not stop the server.
                        try? emit(line)
                    }
                } catch let error as LineupError {
                    outcome.withLock { $0 = error }
                } catch {
                    outcome.withLock { $0 = LineupError(.ioError, "the server stopped: \(error)") }
                }
                done.signal()
            }
            done.wait()
            if let error = outcome.withLock({ $0 }) { throw error }
        }
    }

    private func makeConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        (configuration.host, configuration.port) = try Self.address(listen)
        if let tokenFile { configuration.readWriteTokens = try Token.load(file: tokenFile) }
        if let readOnlyTokenFile { configuration.readOnlyTokens = try Token.load(file: readOnlyTokenFile) }
        switch (tlsCertificate, tlsKey) {
        case (nil, nil): break
        case (let certificate?, let key?):
            configuration.tlsCertificatePath = certificate
            configuration.tlsKeyPath = key
        default:
            throw LineupError(.invalidArgument, "--tls-cert and --tls-key go together")
        }
        guard maxBodyBytes >= 1024 else { throw LineupError(.invalidArgument, "--max-body-bytes must be at least 1024") }
        guard maxInFlight >= 1 else { throw LineupError(.invalidArgument, "--max-in-flight must be at least 1") }
        guard idleTimeout.isFinite, idleTimeout >= 0.1, idleTimeout <= 86_400 else {
            throw LineupError(.invalidArgument, "--idle-timeout must be 0.1 to 86400 seconds")
        }
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxInFlight = maxInFlight
        configuration.idleTimeout = idleTimeout
        configuration.coalesceIdentifications = !noCoalesce
        configuration.coalesceEnrollments = !noCoalesce
        return configuration
    }

    /// HOST:PORT, or [IPv6]:PORT.
    static func address(_ text: String) throws -> (String, Int) {
        let invalid = LineupError(.invalidArgument, "--listen must be HOST:PORT (port 0–65535; IPv6 as [ADDRESS]:PORT)")
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw invalid }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw invalid }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65_535).contains(number) else { throw invalid }
        return (String(host), number)
    }
}
