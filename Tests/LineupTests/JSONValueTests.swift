import Testing
@testable import Lineup

/// The strict RFC 8259 reader behind Faceprint JSON and the CLI's enrollment lines: what it
/// accepts every JSON tool reads the same way, and everything else is an error.
@Suite struct JSONValueTests {
    static func parses(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue? {
        do {
            return try JSONValue.parse(text)
        } catch {
            Issue.record("\(String(reflecting: text)) should parse; got \(error.reason) at \(error.offset)",
                         sourceLocation: sourceLocation)
            return nil
        }
    }

    static func rejects(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let value = try JSONValue.parse(text)
            Issue.record("\(String(reflecting: text)) should be rejected; parsed as \(value)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.offset >= 0 && error.offset <= text.utf8.count, sourceLocation: sourceLocation)
        }
    }

    // MARK: Valid documents

    @Test func scalars() {
        #expect(Self.parses("null") == .null)
        #expect(Self.parses("true") == .bool(true))
        #expect(Self.parses("false") == .bool(false))
        #expect(Self.parses("0") == .number(0))
        #expect(Self.parses("-0") == .number(-0.0))
        #expect(Self.parses("42") == .number(42))
        #expect(Self.parses("\"\"") == .string(""))
        #expect(Self.parses(" \t\r\n 7 \n\t\r ") == .number(7), "the four JSON whitespace characters around a value")
    }

    @Test func numbersWithFractionsAndExponents() {
        let cases: [(String, Double)] = [
            ("1.5", 1.5), ("-1.5", -1.5), ("0.25", 0.25), ("-0.125", -0.125),
            ("1e3", 1000), ("1E3", 1000), ("1e+3", 1000), ("1e-3", 0.001), ("2.5E-2", 0.025),
            ("-1.5e-3", -0.0015), ("123.456e7", 1_234_560_000), ("0e0", 0), ("0.0", 0),
            ("1e01", 10), ("9007199254740993", 9_007_199_254_740_992),
        ]
        for (text, value) in cases {
            #expect(Self.parses(text) == .number(value), "\(text)")
        }
    }

    @Test func stringEscapes() {
        #expect(Self.parses(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(Self.parses(#""\u0041\u00e9\u00E9\u4e2d""#) == .string("Aéé中"))
        #expect(Self.parses(#""\u0000""#) == .string("\u{0}"), "an escaped NUL is a valid character")
        #expect(Self.parses(#""\u001f""#) == .string("\u{1F}"), "control characters are fine when escaped")
        #expect(Self.parses("\"héllo wörld ☃ 😀\"") == .string("héllo wörld ☃ 😀"), "raw non-ASCII UTF-8")
        #expect(Self.parses("\"\u{7F}\"") == .string("\u{7F}"), "DEL is not a control character in JSON")
    }

    @Test func surrogatePairs() {
        #expect(Self.parses(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(Self.parses(#""\ud83d\ude00""#) == .string("😀"))
        #expect(Self.parses(#""\uD800\uDC00""#) == .string("\u{10000}"))
        #expect(Self.parses(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(Self.parses(#""a\uD834\uDD1Eb""#) == .string("a𝄞b"))
    }

    @Test func nestedDocuments() throws {
        let text = """
            {"feature_vector": [0.5, -1, 2e-1, [], {}], "model_name": "TFV5_2",
             "nested": {"a": {"b": [true, false, null, {"c": "d"}]}}, "empty": ""}
            """
        let value = try #require(Self.parses(text))
        #expect(value["model_name"] == .string("TFV5_2"))
        #expect(value["empty"] == .string(""))
        #expect(value["missing"] == nil)
        #expect(value["feature_vector"] == .array([.number(0.5), .number(-1), .number(0.2), .array([]), .object([])]))
        #expect(value["nested"]?["a"]?["b"] == .array([.bool(true), .bool(false), .null, .object([(key: "c", value: .string("d"))])]))
        // Members keep document order.
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["feature_vector", "model_name", "nested", "empty"])
        // A subscript on a non-object is nil.
        #expect(JSONValue.array([]) ["a"] == nil)
    }

    @Test func whitespaceInsideContainers() {
        #expect(Self.parses("[ 1 , 2 ]") == .array([.number(1), .number(2)]))
        #expect(Self.parses("{ \"a\" : 1 , \"b\" : [ ] }") == .object([(key: "a", value: .number(1)), (key: "b", value: .array([]))]))
        #expect(Self.parses("[\n]") == .array([]))
        #expect(Self.parses("{\r\n}") == .object([]))
    }

    @Test func nestingUpToTheLimitParses() {
        let arrays = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(Self.parses(arrays) != nil, "64 nested arrays are within the limit")
        let objects = String(repeating: "{\"k\":", count: 63) + "{}" + String(repeating: "}", count: 63)
        #expect(Self.parses(objects) != nil, "64 nested objects are within the limit")
    }

    // MARK: Rejected documents

    @Test func trailingCommas() {
        for text in ["[1,]", "[1, 2 ,]", "{\"a\":1,}", "{\"a\":1 , }", "[,]", "{,}", "[1,,2]", "[,1]"] {
            Self.rejects(text)
        }
    }

    @Test func comments() {
        for text in ["// c\n1", "1 // c", "/* c */ 1", "[1 /* c */]", "{\"a\": 1 # c\n}", "# c\n1"] {
            Self.rejects(text)
        }
    }

    @Test func singleQuotes() {
        for text in ["'a'", "{'a': 1}", "{\"a\": 'b'}", "['x']"] {
            Self.rejects(text)
        }
    }

    @Test func nonFiniteNumberLiterals() {
        for text in ["NaN", "-NaN", "nan", "Infinity", "-Infinity", "inf", "[NaN]", "{\"a\": Infinity}"] {
            Self.rejects(text)
        }
    }

    @Test func malformedNumbers() {
        for text in ["01", "-01", "00", "00.5", "012e3", "[01]", "+1", "-", "1.", ".5", "-.5", "1.e3", "1e", "1e+",
                     "1E-", "0x10", "1_000", "- 1", "1 .5", "--1"] {
            Self.rejects(text)
        }
    }

    @Test func rawControlCharactersInStrings() {
        for code in 0..<0x20 {
            let text = "\"a" + String(Character(Unicode.Scalar(UInt8(code)))) + "b\""
            Self.rejects(text)
        }
    }

    @Test func nonJSONWhitespace() {
        for text in ["\u{0B}1", "1\u{0C}", "\u{A0}1", "[1,\u{0B}2]", "\u{FEFF}1"] {
            Self.rejects(text)
        }
    }

    @Test func duplicateKeys() {
        Self.rejects("{\"a\": 1, \"a\": 2}")
        Self.rejects("{\"a\": 1, \"b\": 2, \"a\": 1}")
        Self.rejects("{\"x\": {\"a\": 1, \"a\": 1}}")
        // Escapes are decoded before comparing: these are the same key.
        Self.rejects("{\"a\": 1, \"\\u0061\": 2}")
        // Equal keys in different objects are fine.
        #expect(Self.parses("[{\"a\": 1}, {\"a\": 2}]") != nil)
    }

    @Test func unpairedSurrogates() {
        for text in [#""\uD800""#, #""\uDBFF""#, #""\uDC00""#, #""\uDFFF""#, #""\uD800x""#, #""\uD800\u0041""#,
                     #""\uD800\uD800""#, #""\uDE00\uD83D""#, #""\uD83D\n""#, #"{"\uD800": 1}"#] {
            Self.rejects(text)
        }
    }

    @Test func badEscapes() {
        for text in [#""\x41""#, #""\U0041""#, #""\u12""#, #""\u12G4""#, #""\a""#, #""\'""#, "\"\\", "\"\\u", #""\0""#] {
            Self.rejects(text)
        }
    }

    @Test func nestingBeyondTheLimit() {
        Self.rejects(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
        Self.rejects(String(repeating: "{\"k\":", count: 64) + "{}" + String(repeating: "}", count: 64))
        Self.rejects(String(repeating: "[", count: 64) + "1" + String(repeating: "]", count: 64))
        // Deep enough to overflow a naive recursive reader: an error, never a crash.
        Self.rejects(String(repeating: "[", count: 100_000))
        Self.rejects(String(repeating: "{\"a\":", count: 50_000))
    }

    @Test func textAfterTheValue() {
        for text in ["1 2", "{} x", "[1]]", "{}}", "\"a\" \"b\"", "null null", "true,", "1,2", "[] []", "0 0", "{}\u{0}"] {
            Self.rejects(text)
        }
    }

    @Test func incompleteOrMisspelledDocuments() {
        for text in ["", " ", "\n", "[", "]", "{", "}", "[1", "{\"a\"", "{\"a\":", "{\"a\":1", "\"abc", "tru", "True",
                     "nul", "NULL", "fals", "truex", "{a: 1}", "{\"a\" 1}", "{1: 2}", "[1 2]", "{\"a\":1 \"b\":2}", ":"] {
            Self.rejects(text)
        }
    }
}
