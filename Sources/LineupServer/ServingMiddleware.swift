import Hummingbird
import Logging
import Synchronization

/// What every request goes through before its route: the token check, the bound on requests
/// in flight, the one shape of error answers, and the access log.
///
/// The access log has one line a request: method, route pattern (`/v1/collections/{name}`,
/// never the path as sent, which may hold an identity), status, duration, and the bytes in
/// and out. Never a vector, an identity or a token.
struct ServingMiddleware<Context: RequestContext>: RouterMiddleware {
    let configuration: ServerConfiguration
    let logger: Logger
    let inFlight = InFlight()

    final class InFlight: Sendable {
        private let count = Atomic<Int>(0)

        func enter(limit: Int) -> Bool {
            let now = count.wrappingAdd(1, ordering: .relaxed).newValue
            if now > limit {
                count.wrappingSubtract(1, ordering: .relaxed)
                return false
            }
            return true
        }

        func leave() {
            count.wrappingSubtract(1, ordering: .relaxed)
        }
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let isHealth = request.uri.path == "/v1/health"
        var response: Response
        do {
            if !isHealth { try authorize(request) }
            if isHealth {
                response = try await next(request, context)
            } else {
                guard inFlight.enter(limit: configuration.maxInFlight) else {
                    throw ServerError(status: .serviceUnavailable, code: "overloaded",
                                      message: "\(configuration.maxInFlight) requests are in flight; retry shortly",
                                      retryAfterSeconds: 1)
                }
                do {
                    response = try await next(request, context)
                    inFlight.leave()
                } catch {
                    inFlight.leave()
                    throw error
                }
            }
        } catch let error as HTTPError where error.status == .notFound {
            if let allowed = LineupHTTPServer.allowedMethods(forPath: request.uri.path) {
                let allow = allowed.map(\.rawValue).joined(separator: ", ")
                response = Answer.error(ServerError(status: .methodNotAllowed, code: "methodNotAllowed",
                                                    message: "this route takes \(allow)"))
                response.headers[.allow] = allow
            } else {
                response = Answer.error(error)
            }
        } catch {
            response = Answer.error(error)
        }
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
        let route = context.endpointPath ?? "NotFound"
        logger.info("\(request.method) \(route) \(response.status.code) \(String(format: "%.3f", milliseconds))ms in=\(request.headers[.contentLength] ?? "-") out=\(response.body.contentLength.map(String.init) ?? "-")")
        return response
    }

    /// Lets the request through, or throws 401 (no token, or not one of the server's) or 403
    /// (a read-only token on a route that writes). Every token is compared, in constant time.
    private func authorize(_ request: Request) throws {
        guard configuration.requiresToken else { return }
        guard let header = request.headers[.authorization], header.utf8.count > 7,
              header.utf8.prefix(7).map({ $0 | 0x20 }) == Array("bearer ".utf8) else {
            throw ServerError(status: .unauthorized, code: "unauthorized",
                              message: "this server needs Authorization: Bearer <token>")
        }
        let presented = header.utf8.dropFirst(7)
        var readWrite = false
        for token in configuration.readWriteTokens { readWrite = token.matches(presented) || readWrite }
        var readOnly = false
        for token in configuration.readOnlyTokens { readOnly = token.matches(presented) || readOnly }
        guard readWrite || readOnly else {
            throw ServerError(status: .unauthorized, code: "unauthorized", message: "the bearer token is not valid")
        }
        if !readWrite && Self.writes(request) {
            throw ServerError(status: .forbidden, code: "forbidden", message: "a read-only token may only read and identify")
        }
    }

    /// Whether a request changes the store: everything but GET and identification.
    static func writes(_ request: Request) -> Bool {
        switch request.method {
        case .get, .head: false
        case .post: !request.uri.path.hasSuffix("/identify")
        default: true
        }
    }
}
