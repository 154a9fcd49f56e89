import Foundation
import Testing
@testable import Lineup

/// `SDK.importFaceprints` (`lineup import`): files checked first, then streamed into several
/// segment files published together; all or none.
extension SDKTests {
    @Suite struct StreamingImport {
        static func npy(rows: Int, columns: Int, float64: Bool = false, value: (Int, Int) -> Double) -> [UInt8] {
            var header = "{'descr': '\(float64 ? "<f8" : "<f4")', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
            let unpadded = 10 + header.utf8.count + 1
            header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
            bytes += Array(header.utf8)
            bytes.reserveCapacity(bytes.count + rows * columns * (float64 ? 8 : 4))
            for row in 0..<rows {
                for column in 0..<columns {
                    let v = value(row, column)
                    if float64 {
                        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
                    } else {
                        withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { bytes += $0 }
                    }
                }
            }
            return bytes
        }

        static func value(_ row: Int, _ column: Int) -> Double {
            Double((row &* 2_654_435_761 &+ column &* 40_503) % 1_000) / 1_000 - 0.4995
        }

        static func write(_ bytes: [UInt8], _ path: String) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }

        /// More rows than one segment takes: two segment files, one manifest swap, the rows
        /// in file order with the vectors enrollment would have stored.
        @Test func aLargeImportStreamsIntoSeveralSegments() throws {
            let directory = try FileStore.makeDirectory("stream")
            defer { FileStore.cleanUp(directory) }
            let rows = Store.importSegmentRows + 1_000, columns = 8
            try Self.write(Self.npy(rows: rows, columns: columns, value: Self.value), directory + "/v.npy")
            try Data((0..<rows).map { "id \($0 % 1_000)\n" }.joined().utf8).write(to: URL(fileURLWithPath: directory + "/i.txt"))
            let sdk = try FileStore.connect(directory + "/store")
            try sdk.createLoadCollection("c")
            var reported = 0
            let count = try sdk.importFaceprints(vectorsPath: directory + "/v.npy", identitiesPath: directory + "/i.txt",
                                                 collectionName: "c") { done, _ in reported = max(reported, done) }
            #expect(count == rows && reported == rows)
            #expect(FileStore.segmentFiles(directory + "/store").count == 2)
            var index = 0
            var mismatches = 0
            try sdk.export(collectionName: "c").forEach { _, identity, vector in
                let expected = VectorEncoder.normalized((0..<columns).map { Float(Self.value(index, $0)) })
                if identity != "id \(index % 1_000)" || !zip(vector, expected).allSatisfy({ $0.bitPattern == $1.bitPattern }) {
                    mismatches += 1
                }
                index += 1
            }
            #expect(index == rows && mismatches == 0)
        }

        @Test func float64AndKeptUUIDs() throws {
            let directory = try FileStore.makeDirectory("stream-f8")
            defer { FileStore.cleanUp(directory) }
            try Self.write(Self.npy(rows: 50, columns: 4, float64: true, value: Self.value), directory + "/v.npy")
            try Data((0..<50).map { "p\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: directory + "/i.txt"))
            let uuids = (0..<50).map { _ in RecordID.generate().string }
            try Data((uuids.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/u.txt"))
            let sdk = try FileStore.connect(directory + "/store")
            try sdk.createLoadCollection("c")
            try sdk.importFaceprints(vectorsPath: directory + "/v.npy", identitiesPath: directory + "/i.txt",
                                     uuidsPath: directory + "/u.txt", collectionName: "c")
            let map = try sdk.getCollectionIdentities("c")
            #expect(uuids.enumerated().allSatisfy { map[$0.element] == "p\($0.offset)" })
            // The same UUIDs again: refused (they are live), and nothing else changes.
            #expect(throws: LineupError.self) {
                try sdk.importFaceprints(vectorsPath: directory + "/v.npy", identitiesPath: directory + "/i.txt",
                                         uuidsPath: directory + "/u.txt", collectionName: "c")
            }
            #expect(try sdk.getCollectionMetadata("c").numFaceprints == 50)
        }

        /// Every refusal comes before anything is written, or takes back what was: the
        /// store's files are as they were.
        @Test func refusedImportsChangeNothing() throws {
            let directory = try FileStore.makeDirectory("stream-bad")
            defer { FileStore.cleanUp(directory) }
            let store = directory + "/store"
            let rows = 5_000, columns = 8
            let good = Self.npy(rows: rows, columns: columns, value: Self.value)
            try Self.write(good, directory + "/good.npy")
            try Self.write(Array(good.dropLast(3)), directory + "/truncated.npy")
            try Self.write(Self.npy(rows: rows, columns: columns) { row, column in row == rows - 1 ? .nan : Self.value(row, column) },
                           directory + "/nan.npy")
            try Self.write(Self.npy(rows: rows, columns: columns) { row, _ in row == 17 ? 0 : 1 }, directory + "/zero.npy")
            try Self.write(Self.npy(rows: rows, columns: 9, value: Self.value), directory + "/nine.npy")
            let names = (0..<rows).map { "n\($0)\n" }.joined()
            try Data(names.utf8).write(to: URL(fileURLWithPath: directory + "/ids.txt"))
            try Data((0..<(rows - 1)).map { "n\($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: directory + "/short.txt"))
            try Data(("\n" + names.dropFirst(3)).utf8).write(to: URL(fileURLWithPath: directory + "/empty-line.txt"))
            var bad = Array(names.utf8)
            bad[10] = 0xFF
            try Data(bad).write(to: URL(fileURLWithPath: directory + "/utf8.txt"))
            let uuid = RecordID.generate().string
            try Data(String(repeating: uuid + "\n", count: rows).utf8).write(to: URL(fileURLWithPath: directory + "/twice.txt"))

            let sdk = try FileStore.connect(store)
            try sdk.createLoadCollection("c")
            try sdk.importFaceprints(vectorsPath: directory + "/nine.npy", identitiesPath: directory + "/ids.txt", collectionName: "c")
            try sdk.checkpoint()
            let before = try FileStore.contents(store)
            let cases: [(String, String, String?, ErrorCode)] = [
                ("truncated.npy", "ids.txt", nil, .invalidArgument), ("nan.npy", "ids.txt", nil, .invalidArgument),
                ("zero.npy", "ids.txt", nil, .invalidArgument), ("good.npy", "short.txt", nil, .invalidArgument),
                ("good.npy", "empty-line.txt", nil, .inputIsEmpty), ("good.npy", "utf8.txt", nil, .invalidArgument),
                ("good.npy", "ids.txt", "twice.txt", .invalidArgument), ("good.npy", "ids.txt", "missing.txt", .invalidArgument),
                ("missing.npy", "ids.txt", nil, .invalidArgument), ("good.npy", "ids.txt", nil, .enrollmentError),
            ]
            for (vectors, identities, uuids, code) in cases {
                #expect(throws: LineupError.self, "\(vectors) \(identities) \(uuids ?? "")") {
                    do {
                        try sdk.importFaceprints(vectorsPath: directory + "/" + vectors, identitiesPath: directory + "/" + identities,
                                                 uuidsPath: uuids.map { directory + "/" + $0 }, collectionName: "c")
                    } catch let error as LineupError {
                        #expect(error.code == code, "\(vectors) \(identities): \(error)")
                        throw error
                    }
                }
                #expect(try FileStore.contents(store) == before, "\(vectors) \(identities) \(uuids ?? ""): the store is as it was")
            }
            #expect(try sdk.getCollectionMetadata("c").numFaceprints == rows)
        }
    }
}
