import Foundation

/// A face-recognition template: a feature vector and the model that produced it.
///
/// A plain value, safe to share between threads. Enrollment L2-normalises the vector, so its
/// length does not matter; its direction does.
public struct Faceprint: Codable, Sendable, Equatable {
    /// The feature vector as the model produced it.
    public var featureVector: [Float]
    /// The name of the model that produced the vector (`TFV5_2`, …). A collection accepts
    /// Faceprints of its own model only.
    public var modelName: String
    /// Extra options of the model, as the extractor recorded them.
    public var modelOptions: String

    public init(featureVector: [Float], modelName: String = "TFV5_2", modelOptions: String = "") {
        self.featureVector = featureVector
        self.modelName = modelName
        self.modelOptions = modelOptions
    }

    enum CodingKeys: String, CodingKey {
        case featureVector = "feature_vector"
        case modelName = "model_name"
        case modelOptions = "model_options"
    }

    /// Decodes the JSON form by the rules of ``init(json:)``: the decoder's value is read as a
    /// tree and checked by the same code, so `Codable` and ``init(json:)`` accept the same
    /// objects and read the same Faceprint from them. The syntax is the decoder's own (a
    /// `JSONDecoder` takes duplicate keys, which ``init(json:)`` refuses).
    ///
    /// - Throws: `DecodingError.dataCorrupted`, with the ``LineupError`` (`invalidArgument`) as
    ///   its underlying error, when the value is not such an object; the decoder's own errors.
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        do {
            try self.init(jsonObject: value, defaultModelName: "TFV5_2")
        } catch {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath,
                                                                    debugDescription: error.message, underlyingError: error))
        }
    }

    /// Decodes the seed's JSON form: an object with `feature_vector` (an array of numbers,
    /// required), `model_name` and `model_options` (strings, optional; null is the default).
    /// Other members are ignored. The text is read strictly: RFC 8259 JSON (no trailing commas,
    /// comments or NaN) without duplicate keys.
    ///
    /// - Throws: `invalidArgument` when the text is not such an object.
    public init(json: String) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(json)
        } catch {
            throw LineupError(.invalidArgument, "malformed Faceprint JSON at byte \(error.offset): \(error.reason)")
        }
        try self.init(jsonObject: value, defaultModelName: "TFV5_2")
    }

    /// The Faceprint of a parsed JSON object (`feature_vector`, `model_name`, `model_options`):
    /// the one set of rules every way of decoding a Faceprint applies (``init(json:)``,
    /// `init(from:)`, ``EnrollmentLine``). Each number is read as a `Double`, then rounded to
    /// the nearest `Float`.
    package init(jsonObject value: JSONValue, defaultModelName: String) throws(LineupError) {
        let malformed = LineupError(.invalidArgument,
                                    "malformed Faceprint JSON: expected an object with a numeric array \"feature_vector\" and string \"model_name\" / \"model_options\"")
        guard case .object = value, case .array(let elements)? = value["feature_vector"] else { throw malformed }
        var vector: [Float] = []
        vector.reserveCapacity(elements.count)
        for element in elements {
            guard case .number(let number) = element else { throw malformed }
            vector.append(Float(number))
        }
        var modelName = defaultModelName
        switch value["model_name"] {
        case nil, .null?: break
        case .string(let name)?: modelName = name
        default: throw malformed
        }
        var modelOptions = ""
        switch value["model_options"] {
        case nil, .null?: break
        case .string(let options)?: modelOptions = options
        default: throw malformed
        }
        self.init(featureVector: vector, modelName: modelName, modelOptions: modelOptions)
    }

    /// The seed's JSON form. Numbers are written in their shortest form that reads back to the
    /// same `Float`; a non-finite component (which enrollment would refuse) is written as `null`.
    public func json() -> String {
        var out = "{\"feature_vector\":["
        out.reserveCapacity(featureVector.count * 12 + 64)
        for (index, value) in featureVector.enumerated() {
            if index > 0 { out += "," }
            out += value.isFinite ? value.description : "null"
        }
        out += "],\"model_name\":"
        out += JSONText.quoted(modelName)
        out += ",\"model_options\":"
        out += JSONText.quoted(modelOptions)
        out += "}"
        return out
    }
}

/// Small helpers for writing JSON text by hand, where the order of keys matters to readers.
package enum JSONText {
    /// `value` as a JSON string literal, with quotes, backslashes and control characters escaped.
    package static func quoted(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}

/// One line of enrollment input (`lineup enroll`): a Faceprint's JSON object with an
/// `identity` member, `{"identity": "ana", "feature_vector": [...], "model_name": ...}`.
public struct EnrollmentLine: Sendable, Equatable {
    public var identity: String
    public var faceprint: Faceprint

    /// Parses one line's bytes (without its newline) strictly: well-formed UTF-8 and RFC 8259
    /// JSON (no trailing commas, duplicate keys, NaN or comments), an object whose `identity`
    /// is a string and whose `feature_vector` is an array of numbers. A missing or null
    /// `model_name` is `defaultModelName`. Nothing is repaired: bytes that are not UTF-8 are
    /// refused, never replaced, so an identity is stored exactly as it was given or not at all.
    ///
    /// - Throws: `invalidArgument` when the line is not such an object.
    public init(jsonLine bytes: [UInt8], defaultModelName: String) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LineupError(.invalidArgument, "the line is not valid UTF-8")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw LineupError(.invalidArgument, "malformed JSON at byte \(error.offset): \(error.reason)")
        }
        guard case .string(let identity)? = value["identity"] else {
            throw LineupError(.invalidArgument, "expected {\"identity\": \"...\", \"feature_vector\": [...]}")
        }
        self.identity = identity
        faceprint = try Faceprint(jsonObject: value, defaultModelName: defaultModelName)
    }
}
