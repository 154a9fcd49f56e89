import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Lineup
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import Synchronization

/// `lineup serve`: the HTTP server of API.md §3 over a connected ``SDK``.
///
/// Requests are parsed and answered on the server's event loops; every engine call (each may
/// block on a disk flush or a full scan) runs on a thread pool of its own, so a slow call
/// never holds up the connections of others.
public struct LineupHTTPServer: Sendable {
    let sdk: SDK
    let configuration: ServerConfiguration
    let engineThreads: NIOThreadPool
    let identifications: Coalescer<IdentifyKey, Faceprint, [Candidate]>
    let enrollments: Coalescer<String, Enrollment, String>
    let metrics: ServerMetrics

    /// Serves `sdk`'s connection until SIGTERM or SIGINT: then stops accepting, finishes the
    /// requests in flight and returns. The caller closes the store.
    ///
    /// - Parameters:
    ///   - announce: called once with `listening on http://HOST:PORT` (or https) when the
    ///     socket is bound — the port the system chose when `configuration.port` is 0.
    /// - Throws: `invalidArgument` for unreadable TLS files; `ioError` when the address cannot
    ///   be bound.
    public static func run(sdk: SDK, configuration: ServerConfiguration, logger: Logger,
                           announce: @escaping @Sendable (String) -> Void) async throws {
        let tls = try configuration.tlsCertificatePath.map { certificate in
            try tlsConfiguration(certificate: certificate, key: configuration.tlsKeyPath ?? "")
        }
        let pool = NIOThreadPool(numberOfThreads: max(1, configuration.engineThreads))
        pool.start()
        let metrics = ServerMetrics.shared
        let server = LineupHTTPServer(
            sdk: sdk, configuration: configuration, engineThreads: pool,
            identifications: Coalescer(maxBatch: configuration.maxCoalescedBatch) { key, probes in
                try await pool.runIfActive { try Self.search(sdk, key: key, probes: probes, metrics: metrics) }
            },
            enrollments: Coalescer(maxBatch: configuration.maxCoalescedBatch) { collection, batch in
                try await pool.runIfActive { try Self.enroll(sdk, batch, collection: collection) }
            },
            metrics: metrics)
        let http1 = HTTP1Channel.Configuration(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout * 1e9)))
        let serverBuilder: HTTPServerBuilder = try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) }
            ?? .http1(configuration: http1)
        let scheme = tls == nil ? "http" : "https"
        let host = configuration.host
        let app = Application(router: server.router(logger: logger), server: serverBuilder,
                              configuration: .init(address: .hostname(host, port: configuration.port),
                                                   serverName: nil),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? configuration.port
                                  let shown = host.contains(":") ? "[\(host)]" : host
                                  announce("listening on \(scheme)://\(shown):\(port)")
                              },
                              logger: logger)
        do {
            try await app.runService()
        } catch {
            try? await pool.shutdownGracefully()
            if let error = error as? LineupError { throw error }
            throw LineupError(.ioError, "cannot serve on \(host):\(configuration.port): \(error)")
        }
        try? await pool.shutdownGracefully()
    }

    private static func tlsConfiguration(certificate: String, key: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw LineupError(.invalidArgument, "cannot read the TLS certificate chain \(certificate): \(error)")
        }
        guard !chain.isEmpty else { throw LineupError(.invalidArgument, "\(certificate) holds no PEM certificate") }
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw LineupError(.invalidArgument, "cannot read the TLS private key \(key): \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                        privateKey: .privateKey(privateKey))
    }

    // MARK: Routes

    func router(logger: Logger) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ServingMiddleware(configuration: configuration, logger: logger))

        router.get("/v1/health") { _, _ in
            Answer.json(.members(["status": .string("ok")]))
        }
        router.get("/metrics") { _, _ in
            try await self.metricsText()
        }
        router.get("/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        router.get("/v1/collections") { _, _ in
            let names = try await self.engine { try self.sdk.getCollectionNames() }
            return Answer.json(.members(["collections": .array(names.map { .string($0) })]))
        }
        router.post("/v1/collections") { request, _ in
            try await self.createCollection(request)
        }
        router.get("/v1/collections/:name") { _, context in
            let name = try Self.pathParameter("name", context)
            let metadata = try await self.engine { try self.sdk.getCollectionMetadata(name) }
            return Answer.json(.object(metadata.jsonMembers))
        }
        router.delete("/v1/collections/:name") { _, context in
            let name = try Self.pathParameter("name", context)
            try await self.engine { try self.sdk.deleteCollection(name) }
            return Answer.json(.members(["deleted": .string(name)]))
        }
        router.get("/v1/collections/:name/identities") { _, context in
            let name = try Self.pathParameter("name", context)
            let identities = try await self.engine { try self.sdk.getCollectionIdentities(name) }
            let members = identities.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONOutput.string($0.value)) }
            return Answer.json(.members(["identities": .object(members)]))
        }
        router.post("/v1/collections/:name/faceprints") { request, context in
            try await self.enroll(request, collection: try Self.pathParameter("name", context))
        }
        router.delete("/v1/collections/:name/faceprints/:uuid") { _, context in
            let name = try Self.pathParameter("name", context)
            let uuid = try Self.pathParameter("uuid", context)
            try await self.onCollection(name) { try self.sdk.removeByUUID(uuid, collectionName: name) }
            return Answer.json(.members(["removed": .integer(1)]))
        }
        router.delete("/v1/collections/:name/identities/:identity") { _, context in
            let name = try Self.pathParameter("name", context)
            let identity = try Self.pathParameter("identity", context)
            let removed = try await self.onCollection(name) { try self.sdk.removeByIdentity(identity, collectionName: name) }
            return Answer.json(.members(["removed": .integer(removed)]))
        }
        router.post("/v1/collections/:name/identify") { request, context in
            try await self.identify(request, collection: try Self.pathParameter("name", context))
        }
        return router
    }

    /// The routes and their methods, as registered above.
    static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/v1/health", [.get]), ("/metrics", [.get]), ("/v1/openapi.json", [.get]),
        ("/v1/collections", [.get, .post]), ("/v1/collections/:name", [.get, .delete]),
        ("/v1/collections/:name/identities", [.get]), ("/v1/collections/:name/faceprints", [.post]),
        ("/v1/collections/:name/faceprints/:uuid", [.delete]),
        ("/v1/collections/:name/identities/:identity", [.delete]), ("/v1/collections/:name/identify", [.post]),
    ]

    /// The methods a path takes (HEAD with GET), or nil when no route has its shape: a
    /// known path with another method answers 405 with `Allow`, not 404.
    static func allowedMethods(forPath path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for route in routes {
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard pattern.count == segments.count,
                  zip(pattern, segments).allSatisfy({ $0.hasPrefix(":") ? !$1.isEmpty : $0 == $1 }) else { continue }
            return route.methods + (route.methods.contains(.get) ? [.head] : [])
        }
        return nil
    }

    /// A path parameter, percent-decoded (the router leaves `%2F` and the like as sent).
    static func pathParameter(_ key: String, _ context: BasicRequestContext) throws -> String {
        guard let raw = context.parameters.get(key), let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw ServerError.invalid("the \(key) in the path is empty or not valid percent-encoded UTF-8")
        }
        return decoded
    }

    // MARK: Engine calls

    /// Runs a blocking engine call on the engine's threads.
    func engine<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await engineThreads.runIfActive(body)
    }

    /// ``engine(_:)`` for a call on a collection that another process may have created since
    /// this one started (shared store, PostgreSQL): found but not loaded, it is loaded and the
    /// call made once more.
    func onCollection<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let sdk = self.sdk
        return try await engine {
            do {
                return try body()
            } catch let error as LineupError where error.code == .collectionNotLoaded {
                try sdk.loadCollection(name)
                return try body()
            }
        }
    }

    /// The model of a loaded collection: a dictionary lookup, made on the caller's thread
    /// (only a collection another process created since needs the engine's threads to load).
    func modelName(of collection: String) async throws -> String {
        do {
            return try sdk.modelName(ofLoaded: collection)
        } catch let error as LineupError where error.code == .collectionNotLoaded {
            let sdk = self.sdk
            return try await onCollection(collection) { try sdk.modelName(ofLoaded: collection) }
        }
    }

    // MARK: Collections

    private func createCollection(_ request: Request) async throws -> Response {
        let body = try await Body.object(request, limit: configuration.maxBodyBytes)
        try Body.allow(body, ["name", "model", "compression"])
        let name = try Body.string(body, "name") ?? { throw ServerError.invalid("\"name\" is missing") }()
        let model = try Body.string(body, "model") ?? "TFV5_2"
        let compressionName = try Body.string(body, "compression") ?? "none"
        guard let compression = VectorCompression(rawValue: compressionName) else {
            throw ServerError.invalid("\"compression\" must be \"none\", \"fp16\" or \"int8\"")
        }
        // Checked before the name is looked up: an existing collection is no excuse for a bad
        // request.
        try Validation.collectionName(name)
        try Validation.modelName(model)
        let sdk = self.sdk
        let created = try await engine { () throws -> Bool in
            if try sdk.getCollectionNames().contains(where: { $0.utf8.elementsEqual(name.utf8) }) { return false }
            var options = sdk.options
            options.frModel = model
            options.vectorCompression = compression
            try SDK(options: options).createLoadCollection(name)
            return true
        }
        return Answer.json(.members(["name": .string(name)]), status: created ? .created : .ok)
    }

    // MARK: Enrollment

    private func enroll(_ request: Request, collection: String) async throws -> Response {
        let body = try await Body.object(request, limit: configuration.maxBodyBytes)
        let faceprintKeys: Set<String> = ["identity", "feature_vector", "model_name", "model_options"]
        let sdk = self.sdk
        let model = try await modelName(of: collection)
        if let list = body["faceprints"] {
            try Body.allow(body, ["faceprints"])
            guard case .array(let elements) = list else { throw ServerError.invalid("\"faceprints\" must be an array of objects") }
            var faceprints: [Faceprint] = []
            var identities: [String] = []
            faceprints.reserveCapacity(elements.count)
            identities.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                do {
                    let (faceprint, identity) = try Self.enrollment(element, keys: faceprintKeys, model: model)
                    faceprints.append(faceprint)
                    identities.append(identity)
                } catch let error as ServerError {
                    throw ServerError.invalid("faceprint \(index): \(error.message)")
                } catch let error as LineupError {
                    throw LineupError(error.code, "faceprint \(index): \(error.message)")
                }
            }
            let batch = faceprints, names = identities
            let uuids = try await onCollection(collection) {
                try sdk.enrollFaceprints(batch, identities: names, collectionName: collection)
            }
            return Answer.json(.members(["uuids": .array(uuids.map { .string($0) })]), status: .created)
        }
        let (faceprint, identity) = try Self.enrollment(body, keys: faceprintKeys, model: model)
        let uuid: String
        if configuration.coalesceEnrollments {
            uuid = try await enrollments.run(Enrollment(faceprint: faceprint, identity: identity), key: collection)
        } else {
            uuid = try await onCollection(collection) {
                try sdk.enrollFaceprint(faceprint, identity: identity, collectionName: collection)
            }
        }
        return Answer.json(.members(["uuid": .string(uuid)]), status: .created)
    }

    struct Enrollment: Sendable {
        var faceprint: Faceprint
        var identity: String
    }

    /// Enrolls coalesced single enrollments: one alone, several as one all-or-none batch.
    static func enroll(_ sdk: SDK, _ batch: [Enrollment], collection: String) throws -> [String] {
        func run() throws -> [String] {
            if batch.count == 1 {
                return [try sdk.enrollFaceprint(batch[0].faceprint, identity: batch[0].identity, collectionName: collection)]
            }
            return try sdk.enrollFaceprints(batch.map(\.faceprint), identities: batch.map(\.identity), collectionName: collection)
        }
        do {
            return try run()
        } catch let error as LineupError where error.code == .collectionNotLoaded {
            try sdk.loadCollection(collection)
            return try run()
        }
    }

    private static func enrollment(_ value: JSONValue, keys: Set<String>, model: String) throws -> (Faceprint, String) {
        guard case .object = value else { throw ServerError.invalid("a Faceprint must be a JSON object") }
        try Body.allow(value, keys)
        guard let identity = try Body.string(value, "identity") else { throw ServerError.invalid("\"identity\" is missing") }
        guard value["feature_vector"] != nil else { throw ServerError.invalid("\"feature_vector\" is missing") }
        return (try Faceprint(jsonObject: value, defaultModelName: model), identity)
    }

    // MARK: Identification

    private func identify(_ request: Request, collection: String) async throws -> Response {
        let query = request.uri.queryParameters
        var top = try Query.integer(query, "top") ?? 1
        var threshold = try Query.float(query, "threshold") ?? 0.4
        var distinct = try Query.bool(query, "distinct_identities") ?? false
        var probes: [[Float]]
        var single = false
        if Body.isNumpy(request) {
            let bytes = try await Body.bytes(request, limit: configuration.maxBodyBytes)
            let matrix: NumpyMatrix
            do {
                matrix = try NumpyMatrix(npyBytes: bytes)
            } catch {
                throw LineupError(.invalidArgument, "the .npy body: \(error.message)")
            }
            probes = (0..<matrix.rows).map { Array(matrix.row($0)) }
        } else {
            let body = try await Body.object(request, limit: configuration.maxBodyBytes)
            try Body.allow(body, ["feature_vector", "feature_vectors", "top", "threshold", "distinct_identities"])
            top = try Body.integer(body, "top") ?? top
            threshold = try Body.float(body, "threshold") ?? threshold
            distinct = try Body.bool(body, "distinct_identities") ?? distinct
            switch (body["feature_vector"], body["feature_vectors"]) {
            case (let vector?, nil):
                probes = [try Body.vector(vector, "feature_vector")]
                single = true
            case (nil, .array(let vectors)?):
                probes = try vectors.enumerated().map { try Body.vector($0.element, "feature_vectors[\($0.offset)]") }
            case (nil, _?):
                throw ServerError.invalid("\"feature_vectors\" must be an array of arrays of numbers")
            case (nil, nil):
                throw ServerError.invalid("give \"feature_vector\" (one probe) or \"feature_vectors\" (several)")
            case (_?, _?):
                throw ServerError.invalid("give \"feature_vector\" or \"feature_vectors\", not both")
            }
        }
        let sdk = self.sdk
        let model = try await modelName(of: collection)
        let faceprints = probes.map { Faceprint(featureVector: $0, modelName: model) }
        let key = IdentifyKey(collection: collection, top: top, thresholdBits: threshold.bitPattern, distinct: distinct)
        let results: [[Candidate]]
        if single && configuration.coalesceIdentifications {
            results = [try await identifications.run(faceprints[0], key: key)]
        } else {
            let metrics = self.metrics
            results = try await onCollection(collection) {
                try Self.search(sdk, key: key, probes: faceprints, metrics: metrics)
            }
        }
        return Answer.json(.members(["results": .array(results.map { .members(["candidates": .array($0.map(\.json))]) })]))
    }

    /// One search of the engine: a lone probe through the single-probe path, several through
    /// the batch kernels over one snapshot.
    /// What single-probe identifications must share to run as one batch.
    struct IdentifyKey: Hashable, Sendable {
        var collection: String
        var top: Int
        var thresholdBits: UInt32
        var distinct: Bool
    }

    static func search(_ sdk: SDK, key: IdentifyKey, probes: [Faceprint], metrics: ServerMetrics) throws -> [[Candidate]] {
        let threshold = Float(bitPattern: key.thresholdBits)
        let name = key.collection
        metrics.recordBatch(probes.count)
        func run() throws -> [[Candidate]] {
            switch (probes.count, key.distinct) {
            case (1, false):
                [try sdk.identifyTopCandidates(probes[0], numCandidates: key.top, threshold: threshold, collectionName: name)]
            case (1, true):
                [try sdk.identifyTopIdentities(probes[0], numCandidates: key.top, threshold: threshold, collectionName: name)]
            case (_, false):
                try sdk.batchIdentifyTopCandidates(probes, numCandidates: key.top, threshold: threshold, collectionName: name)
            case (_, true):
                try sdk.batchIdentifyTopIdentities(probes, numCandidates: key.top, threshold: threshold, collectionName: name)
            }
        }
        do {
            return try run()
        } catch let error as LineupError where error.code == .collectionNotLoaded {
            try sdk.loadCollection(name)
            return try run()
        }
    }

    // MARK: Metrics

    private func metricsText() async throws -> Response {
        let sdk = self.sdk
        let counts = try await engine { () throws -> [(String, Int)] in
            try sdk.getCollectionNames().map { ($0, try sdk.getCollectionMetadata($0).numFaceprints) }
        }
        metrics.setFaceprints(counts)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.registry.emitToString())))
    }
}

/// The process's Prometheus registry, the metrics system's backend once a server runs, and
/// the server's own series.
final class ServerMetrics: Sendable {
    static let shared = ServerMetrics()

    let registry = PrometheusCollectorRegistry()
    private let faceprints = Mutex<[String: Prometheus.Gauge]>([:])
    private let batchProbes: ValueHistogram

    private init() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        batchProbes = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(namespace: "lineup", metricName: "identify_batch", unitName: "probes",
                                             helpText: "Probes per engine search (coalesced single-probe requests and batch requests)"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024])
    }

    func recordBatch(_ probes: Int) {
        batchProbes.record(Double(probes))
    }

    /// Sets `lineup_faceprints{collection=…}` to the counts given, and drops the series of
    /// collections no longer there.
    func setFaceprints(_ counts: [(String, Int)]) {
        faceprints.withLock { gauges in
            let present = Set(counts.map(\.0))
            for (name, gauge) in gauges where !present.contains(name) {
                registry.unregisterGauge(gauge)
                gauges[name] = nil
            }
            for (name, count) in counts {
                let gauge = gauges[name] ?? registry.makeGauge(
                    descriptor: MetricNameDescriptor(namespace: "lineup", metricName: "faceprints", unitName: "",
                                                     helpText: "Live Faceprints per collection"),
                    labels: [("collection", name)])
                gauges[name] = gauge
                gauge.set(Double(count))
            }
        }
    }
}
