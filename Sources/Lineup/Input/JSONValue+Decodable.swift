/// A `JSONValue` read from any `Decoder`: the tree the decoder holds, so that a type decoded
/// through `Codable` can apply the same rules to it as to text read by ``JSONValue/parse(_:)``
/// (``Faceprint``'s `init(from:)` does).
///
/// The syntax is the decoder's business: what `JSONDecoder` accepts (duplicate keys, for one)
/// is decided before this sees a value. Objects list their members in the decoder's key order,
/// which for `JSONDecoder` is not the document's. A number is read as a `Double`, as the
/// strict reader reads it.
extension JSONValue: Decodable {
    package init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: MemberKey.self) {
            var members: [(key: String, value: JSONValue)] = []
            for key in object.allKeys {
                members.append((key.stringValue, try object.decode(JSONValue.self, forKey: key)))
            }
            self = .object(members)
        } else if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd { elements.append(try array.decode(JSONValue.self)) }
            self = .array(elements)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let bool = try? value.decode(Bool.self) {
                self = .bool(bool)
            } else if let number = try? value.decode(Double.self) {
                self = .number(number)
            } else {
                self = .string(try value.decode(String.self))
            }
        }
    }

    /// Any member name.
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
