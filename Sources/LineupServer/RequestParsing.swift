import Hummingbird
import HummingbirdCore
import Lineup
import NIOCore

/// Reading request bodies: bounded before they are read whole, strict about their shape.
enum Body {
    /// The body's bytes. A `Content-Length` over `limit` is refused before a byte is read; a
    /// body without one is read until it passes the limit, then refused.
    static func bytes(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength], let length = Int(declared), length > limit {
            throw ServerError.tooLarge(limit)
        }
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ServerError.tooLarge(limit)
        }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    static func isNumpy(_ request: Request) -> Bool {
        mediaType(request) == "application/x-npy"
    }

    /// The media type of `Content-Type`, lowercased, without parameters; nil when absent.
    static func mediaType(_ request: Request) -> String? {
        guard let value = request.headers[.contentType] else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? value
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The body as a JSON object, whatever `Content-Type` says (`curl -d` sends JSON as a
    /// form).
    static func object(_ request: Request, limit: Int) async throws -> JSONValue {
        let bytes = try await self.bytes(request, limit: limit)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ServerError.invalid("the body is not valid UTF-8")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw ServerError.invalid("malformed JSON at byte \(error.offset): \(error.reason)")
        }
        guard case .object = value else { throw ServerError.invalid("the body must be a JSON object") }
        return value
    }

    /// Refuses members other than `allowed`: a misspelt option is an error, not a default.
    static func allow(_ value: JSONValue, _ allowed: Set<String>) throws {
        guard case .object(let members) = value else { return }
        for member in members where !allowed.contains(member.key) {
            throw ServerError.invalid("unknown member \(JSONOutput.string(member.key).text); expected \(allowed.sorted().joined(separator: ", "))")
        }
    }

    static func string(_ value: JSONValue, _ key: String) throws -> String? {
        switch value[key] {
        case nil: nil
        case .string(let text)?: text
        default: throw ServerError.invalid("\"\(key)\" must be a string")
        }
    }

    static func integer(_ value: JSONValue, _ key: String) throws -> Int? {
        switch value[key] {
        case nil: return nil
        case .number(let number)?:
            guard let integer = Int(exactly: number) else { throw ServerError.invalid("\"\(key)\" must be an integer") }
            return integer
        default: throw ServerError.invalid("\"\(key)\" must be an integer")
        }
    }

    static func float(_ value: JSONValue, _ key: String) throws -> Float? {
        switch value[key] {
        case nil: return nil
        case .number(let number)?:
            let float = Float(number)
            guard float.isFinite else { throw ServerError.invalid("\"\(key)\" must be a finite number") }
            return float
        default: throw ServerError.invalid("\"\(key)\" must be a number")
        }
    }

    static func bool(_ value: JSONValue, _ key: String) throws -> Bool? {
        switch value[key] {
        case nil: nil
        case .bool(let flag)?: flag
        default: throw ServerError.invalid("\"\(key)\" must be true or false")
        }
    }

    /// A feature vector: an array of numbers, each rounded to the nearest `Float`.
    static func vector(_ value: JSONValue, _ what: String) throws -> [Float] {
        guard case .array(let elements) = value else { throw ServerError.invalid("\"\(what)\" must be an array of numbers") }
        var vector: [Float] = []
        vector.reserveCapacity(elements.count)
        for element in elements {
            guard case .number(let number) = element else { throw ServerError.invalid("\"\(what)\" must be an array of numbers") }
            vector.append(Float(number))
        }
        return vector
    }
}

/// Reading query parameters (already percent-decoded by the router).
enum Query {
    static func integer(_ query: FlatDictionary<Substring, Substring>, _ key: String) throws -> Int? {
        guard let text = query[key[...]] else { return nil }
        guard let value = Int(text) else { throw ServerError.invalid("the query parameter \(key) must be an integer") }
        return value
    }

    static func float(_ query: FlatDictionary<Substring, Substring>, _ key: String) throws -> Float? {
        guard let text = query[key[...]] else { return nil }
        guard let value = Float(text), value.isFinite else {
            throw ServerError.invalid("the query parameter \(key) must be a finite number")
        }
        return value
    }

    static func bool(_ query: FlatDictionary<Substring, Substring>, _ key: String) throws -> Bool? {
        guard let text = query[key[...]] else { return nil }
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ServerError.invalid("the query parameter \(key) must be true or false")
        }
    }
}
