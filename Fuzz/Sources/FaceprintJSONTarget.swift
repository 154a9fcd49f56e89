/// `faceprint-json`: text, as the input, through ``JSONValue/parse(_:)`` and
/// ``Faceprint/init(json:)``, and the raw bytes through ``EnrollmentLine/init(jsonLine:defaultModelName:)``
/// (the tool's enrollment lines). A Faceprint that decodes with finite components must survive
/// its own JSON form unchanged; a line that decodes must be valid UTF-8.
enum FaceprintJSONTarget {
    static let target = FuzzTarget(name: "faceprint-json", seeds: seeds, run: run)

    static func seeds() throws -> [String: [UInt8]] {
        let full = Faceprint(featureVector: Fixtures.vector(7), modelName: "TFV6", modelOptions: "{\"k\":1}").json()
        let texts = [
            "full.json": full,
            "minimal.json": "{\"feature_vector\": [0.5, -1e-3, 2E+2, 0]}",
            "enroll-line.json": "{\"identity\": \"ana \\u00e9\\ud83d\\ude00\", \"feature_vector\": [1, 2.5, -3], \"model_name\": null}",
            "nested.json": "[{\"a\": [true, false, null, \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]}, -0.0, 1e308]",
            "whitespace.json": " \t\r\n{ \"feature_vector\" : [ ] , \"model_options\" : \"\" } \n",
        ]
        return texts.mapValues { Array($0.utf8) }
    }

    static func run(_ input: [UInt8]) {
        do {
            _ = try EnrollmentLine(jsonLine: input, defaultModelName: "TFV5_2")
            fuzzCheck(String(validating: input, as: UTF8.self) != nil, "an enrollment line that is not UTF-8 decoded")
        } catch let error as LineupError {
            fuzzCheck(error.code == .invalidArgument, "an enrollment line threw \(error)")
        } catch {
            fuzzCheck(false, "an enrollment line threw a non-Lineup error \(error)")
        }
        let text = String(decoding: input, as: UTF8.self)
        _ = try? JSONValue.parse(text)
        let faceprint: Faceprint
        do {
            faceprint = try Faceprint(json: text)
        } catch let error as LineupError {
            fuzzCheck(error.code == .invalidArgument, "Faceprint JSON threw \(error)")
            return
        } catch {
            fuzzCheck(false, "Faceprint JSON threw a non-Lineup error \(error)")
            return
        }
        guard faceprint.featureVector.allSatisfy(\.isFinite) else { return }
        do {
            let again = try Faceprint(json: faceprint.json())
            fuzzCheck(again.featureVector.map(\.bitPattern) == faceprint.featureVector.map(\.bitPattern)
                      && again.modelName == faceprint.modelName && again.modelOptions == faceprint.modelOptions,
                      "a Faceprint changed through its JSON form")
        } catch {
            fuzzCheck(false, "a Faceprint's own JSON does not decode: \(error)")
        }
    }
}
