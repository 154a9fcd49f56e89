import Foundation
import Testing
@testable import Lineup

/// ``Faceprint``'s two decoders — ``Faceprint/init(json:)`` and `Codable` through
/// `JSONDecoder` — apply one set of rules: they accept the same objects and read the same
/// Faceprint from them.
@Suite struct FaceprintDecodingTests {
    /// The Faceprint each decoder reads from `json`, or nil where it refuses it.
    static func decodeBothWays(_ json: String) -> (strict: Faceprint?, codable: Faceprint?) {
        (try? Faceprint(json: json), try? JSONDecoder().decode(Faceprint.self, from: Data(json.utf8)))
    }

    static func sameBits(_ a: Faceprint?, _ b: Faceprint?) -> Bool {
        a?.featureVector.map(\.bitPattern) == b?.featureVector.map(\.bitPattern)
            && a?.modelName == b?.modelName && a?.modelOptions == b?.modelOptions
    }

    @Test(arguments: [
        #"{"feature_vector": [1, 2, 3]}"#,
        #"{"feature_vector": [], "model_name": "LITE", "model_options": "{\"a\":1}"}"#,
        #"{"feature_vector": [0.5], "model_name": null, "model_options": null}"#,
        #"{"identity": "ana", "feature_vector": [-0.0, 1e-45, 3.4028235e38], "other": {"a": [true, null, "x"]}}"#,
        #"{"feature_vector": [0.1, 0.30000000000000004, 123456.79, 1.0000001, 9007199254740993, 1e-50]}"#,
    ])
    func bothAccept(json: String) throws {
        let (strict, codable) = Self.decodeBothWays(json)
        #expect(strict != nil && codable != nil, "\(json)")
        #expect(Self.sameBits(strict, codable), "\(json): \(String(describing: strict)) vs \(String(describing: codable))")
    }

    @Test(arguments: [
        "null",
        "[]",
        "[1, 2, 3]",
        #""feature_vector""#,
        #"{}"#,
        #"{"model_name": "TFV5_2"}"#,
        #"{"feature_vector": null}"#,
        #"{"feature_vector": "1,2,3"}"#,
        #"{"feature_vector": {"0": 1}}"#,
        #"{"feature_vector": [1, "2", 3]}"#,
        #"{"feature_vector": [1, null]}"#,
        #"{"feature_vector": [1, true]}"#,
        #"{"feature_vector": [[1], [2]]}"#,
        #"{"feature_vector": [1, 2], "model_name": 5}"#,
        #"{"feature_vector": [1, 2], "model_options": false}"#,
        #"{"feature_vector": [1, 2], "model_name": ["TFV5_2"]}"#,
    ])
    func bothRefuse(json: String) {
        let (strict, codable) = Self.decodeBothWays(json)
        #expect(strict == nil, "init(json:) read \(json)")
        #expect(codable == nil, "JSONDecoder read \(json)")
    }

    @Test func refusalIsDataCorruptedWithTheLineupError() throws {
        do {
            _ = try JSONDecoder().decode(Faceprint.self, from: Data(#"{"feature_vector": [1, "2"]}"#.utf8))
            Issue.record("decoded")
        } catch DecodingError.dataCorrupted(let context) {
            #expect((context.underlyingError as? LineupError)?.code == .invalidArgument)
        }
    }

    @Test func nestedInAnotherCodable() throws {
        struct Batch: Codable, Equatable { var faceprints: [Faceprint] }
        let batch = Batch(faceprints: [Faceprint(featureVector: [1, 0.25]),
                                       Faceprint(featureVector: [-3], modelName: "名前 \"q\"", modelOptions: "o")])
        let data = try JSONEncoder().encode(batch)
        #expect(try JSONDecoder().decode(Batch.self, from: data) == batch)
        for faceprint in batch.faceprints {
            let text = String(decoding: try JSONEncoder().encode(faceprint), as: UTF8.self)
            #expect(try Faceprint(json: text) == faceprint, "init(json:) reads what JSONEncoder writes")
        }
    }
}
