

/// A JSON value as the tool prints it: the one way the commands write JSON. (`verify --json`
/// prints the library's `ExaminationReport.printed()`, whose digest the library defines over
/// its own bytes.)
///
/// Object members are written in the order they are given — for each command, the order of
/// the CLI contract — never re-sorted, so a key's position is fixed where the value is built.
/// Text is one line, no whitespace between tokens, and:
///
/// - strings escape `"` and `\` with a backslash, U+0008, U+000C, line feed, carriage return
///   and tab as `\b`, `\f`, `\n`, `\r`, `\t`, the other code points below U+0020 as `\u00xx`
///   (lowercase hex), and nothing else: `/`, U+007F and every non-ASCII character are written
///   as their UTF-8 bytes. These are the rules of Foundation's `JSONEncoder` with
///   `.withoutEscapingSlashes`, which the tool's output followed before it had its own writer;
/// - floats are written as `Float.description`, the shortest text that reads back as the
///   same `Float`;
/// - integers and booleans as Swift prints them.
///
/// A plain value, safe to share between threads.
package enum JSONOutput: Sendable {
    case bool(Bool)
    case integer(Int)
    case float(Float)
    /// A double, as `Double.description` writes it (an error rate).
    case double(Double)
    case string(String)
    case array([JSONOutput])
    /// An array of floats (a feature vector), kept unboxed: an export writes millions.
    case floats([Float])
    /// Members in the order written. Keys are expected to be distinct; nothing checks.
    case object([(key: String, value: JSONOutput)])

    /// An object whose members are written in the order of the literal.
    package static func members(_ members: KeyValuePairs<String, JSONOutput>) -> JSONOutput {
        .object(members.map { (key: $0.key, value: $0.value) })
    }

    /// The value as one line of JSON, without a line ending.
    package var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Appends the value's JSON text to `out`.
    package func write(to out: inout String) {
        switch self {
        case .bool(let value):
            out += value ? "true" : "false"
        case .integer(let value):
            out += String(value)
        case .float(let value):
            out += value.description
        case .double(let value):
            out += value.description
        case .string(let value):
            Self.writeString(value, to: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .floats(let values):
            out += "["
            for index in values.indices {
                if index > 0 { out += "," }
                out += values[index].description
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Appends `value` as a JSON string literal, escaped as the type's documentation says.
    package static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += scalar.value < 0x10 ? "\\u000" : "\\u00"
                out += String(scalar.value, radix: 16)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

// The JSON forms of the library's values, keys in the order the CLI contract gives them.

extension CollectionMetadata {
    /// `lineup info --json`: the metadata's snake_case keys, in alphabetical order.
    package var jsonMembers: [(key: String, value: JSONOutput)] {
        [("collection_name", .string(collectionName)),
         ("encrypted", .bool(encrypted)),
         ("feature_vector_size_bytes", .integer(featureVectorSizeBytes)),
         ("model_name", .string(modelName)),
         ("model_options", .string(modelOptions)),
         ("num_faceprints", .integer(numFaceprints)),
         ("num_identities", .integer(numIdentities))]
    }
}

extension CollectionSpace {
    /// The `space` object of `lineup info --json --space`, keys in alphabetical order.
    package var json: JSONOutput {
        .members(["dead_bytes": .integer(deadBytes),
                  "live_bytes": .integer(liveBytes),
                  "live_faceprints": .integer(liveFaceprints),
                  "removed_faceprints": .integer(removedFaceprints),
                  "segments": .integer(segments)])
    }
}

extension Candidate {
    /// One candidate of `lineup identify`'s line.
    package var json: JSONOutput {
        .members(["uuid": .string(uuid),
                  "identity": .string(identity),
                  "similarity": .float(similarityMeasure),
                  "match_probability": .float(matchProbability)])
    }
}
