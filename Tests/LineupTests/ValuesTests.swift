import Testing
@testable import Lineup

/// The public value types of the library (Lineup.docc): defaults and spellings that code depends on.
@Suite struct ValuesTests {
    @Test func configurationDefaults() {
        let options = ConfigurationOptions()
        #expect(options.dbms == .file)
        #expect(options.frModel == "TFV5_2")
        #expect(options.vectorCompression == .none)
        #expect(options.encryptionKey == nil)
        #expect(options.notificationCheckInterval == nil)
        #expect(SDK().options == options)
    }

    @Test func faceprintDefaults() {
        let faceprint = Faceprint(featureVector: [1, 2])
        #expect(faceprint.modelName == "TFV5_2")
        #expect(faceprint.modelOptions == "")
    }

    @Test func bytesPerDimension() {
        #expect(VectorCompression.none.bytesPerDimension == 4)
        #expect(VectorCompression.fp16.bytesPerDimension == 2)
        #expect(VectorCompression.int8.bytesPerDimension == 1)
    }

    @Test func errorDescriptionNamesTheCode() {
        let error = LineupError(.noRecordFound, "no Faceprint has UUID x")
        #expect(error.code == .noRecordFound)
        #expect(error.description.hasPrefix("noRecordFound"))
        #expect(error.description.contains("no Faceprint has UUID x"))
        // Every code has its own name.
        #expect(Set(ErrorCode.allCases.map(\.name)).count == ErrorCode.allCases.count)
        #expect(ErrorCode.allCases.count == 18)
    }
}
