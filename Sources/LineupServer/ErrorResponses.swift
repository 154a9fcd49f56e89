import Hummingbird
import Lineup
import NIOCore

/// A failure the server itself finds (tokens, limits, routes, the shape of a request), with
/// the status and code it answers with. Engine failures arrive as ``LineupError``.
struct ServerError: Error {
    var status: HTTPResponse.Status
    /// An ``ErrorCode`` name where one fits (`invalidArgument`), otherwise the server's own:
    /// `unauthorized`, `forbidden`, `notFound`, `methodNotAllowed`, `payloadTooLarge`,
    /// `overloaded`.
    var code: String
    var message: String
    var retryAfterSeconds: Int?

    static func invalid(_ message: String) -> ServerError {
        ServerError(status: .badRequest, code: ErrorCode.invalidArgument.name, message: message)
    }

    static func tooLarge(_ limit: Int) -> ServerError {
        ServerError(status: .contentTooLarge, code: "payloadTooLarge",
                    message: "the request body is larger than the limit of \(limit) bytes")
    }
}

/// The answers every route shares: JSON bodies, and the error body
/// `{"error": {"code", "message"}}`.
enum Answer {
    static func json(_ value: JSONOutput, status: HTTPResponse.Status = .ok) -> Response {
        var text = value.text
        text += "\n"
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The status an engine error answers with: 400 for bad input, 404 for a missing
    /// collection or record, 409 for a store another process holds, 503 while the store
    /// cannot take writes, 500 for a damaged store (a bug or a disk fault, never the request).
    static func status(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument, .inputIsEmpty, .enrollmentError, .noCollectionSpecified,
             .collectionCreationError, .featureNotSupported:
            .badRequest
        case .noCollectionFound, .noRecordFound, .collectionNotLoaded:
            .notFound
        case .storeLocked, .collectionDeletionError:
            .conflict
        case .readOnly, .ioError, .databaseNotConnected:
            .serviceUnavailable
        case .corruptStore, .wrongEncryptionKey, .unsupportedFormatVersion, .databaseConnectionError:
            .internalServerError
        }
    }

    /// The error answer for anything a route or middleware threw.
    static func error(_ error: any Error) -> Response {
        let status: HTTPResponse.Status
        let code: String
        let message: String
        var retryAfter: Int?
        switch error {
        case let error as LineupError:
            status = Self.status(for: error.code)
            code = error.code.name
            message = error.message
            if status == .serviceUnavailable { retryAfter = 1 }
        case let error as ServerError:
            status = error.status
            code = error.code
            message = error.message
            retryAfter = error.retryAfterSeconds
        case let error as HTTPError:
            status = error.status
            switch error.status {
            case .notFound: (code, message) = ("notFound", "no such route")
            case .methodNotAllowed: (code, message) = ("methodNotAllowed", "the route does not take this method")
            case .contentTooLarge: (code, message) = ("payloadTooLarge", "the request body is too large")
            default: (code, message) = (error.status.code < 500 ? ErrorCode.invalidArgument.name : "internal",
                                        error.status.reasonPhrase)
            }
        case is NIOTooManyBytesError:
            status = .contentTooLarge
            code = "payloadTooLarge"
            message = "the request body is larger than the limit"
        default:
            status = .internalServerError
            code = "internal"
            message = "internal error"
        }
        var response = json(.members(["error": .members(["code": .string(code), "message": .string(message)])]),
                            status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
