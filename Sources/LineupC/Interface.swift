import CLineup
import Lineup

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The functions of Bindings/C/include/lineup.h, each a thin layer over the SDK façade: check
// the C arguments (NULL, UTF-8, sizes), call the SDK, copy the answer into memory the library
// owns. No Swift error or trap crosses the boundary: every failure is a status and a message.

// MARK: Calls

/// Runs `body`, turning a thrown ``LineupError`` into its status and the calling thread's
/// message. Success clears the message.
@inline(__always)
func call(_ body: () throws -> Void) -> lineup_status {
    do {
        try body()
        LastError.clear()
        return 0
    } catch let error as LineupError {
        LastError.set(error.message)
        return error.code.status
    } catch {
        LastError.set("\(error)")
        return ErrorCode.invalidArgument.status
    }
}

/// A C enumerator as the `int32_t` the functions take.
func raw<T: RawRepresentable>(_ value: T) -> Int32 where T.RawValue: BinaryInteger { Int32(value.rawValue) }

func invalid(_ message: String) -> LineupError { LineupError(.invalidArgument, message) }

/// A required string argument.
func text(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let pointer else { throw invalid("\(what) is NULL") }
    guard let value = String(validatingCString: pointer) else { throw invalid("\(what) is not valid UTF-8") }
    return value
}

/// A collection argument where NULL means "" (the only loaded collection).
func collection(_ pointer: UnsafePointer<CChar>?) throws -> String {
    pointer == nil ? "" : try text(pointer, "collection_name")
}

func modelName(_ pointer: UnsafePointer<CChar>?) throws -> String {
    pointer == nil ? "TFV5_2" : try text(pointer, "model_name")
}

/// A vector argument, checked for NULL and size before a byte is read.
func vector(_ pointer: UnsafePointer<Float>?, _ dimension: Int, _ what: String = "vector") throws -> [Float] {
    guard dimension <= Int(LINEUP_MAXIMUM_DIMENSION) else {
        throw invalid("the dimension \(dimension) is over \(LINEUP_MAXIMUM_DIMENSION)")
    }
    guard dimension > 0 else { throw LineupError(.inputIsEmpty, "the feature vector is empty") }
    guard let pointer else { throw invalid("\(what) is NULL") }
    return Array(UnsafeBufferPointer(start: pointer, count: dimension))
}

/// The rows of a contiguous rows × dimension matrix.
func matrix(_ pointer: UnsafePointer<Float>?, rows: Int, dimension: Int) throws -> [[Float]] {
    guard rows > 0 else { return [] }
    try checkMatrix(pointer, rows: rows, dimension: dimension)
    return (0..<rows).map { Array(UnsafeBufferPointer(start: pointer! + $0 * dimension, count: dimension)) }
}

/// Refuses a matrix of `rows` (> 0) × `dimension` floats at `pointer` that could not be read.
func checkMatrix(_ pointer: UnsafePointer<Float>?, rows: Int, dimension: Int) throws {
    guard dimension <= Int(LINEUP_MAXIMUM_DIMENSION) else {
        throw invalid("the dimension \(dimension) is over \(LINEUP_MAXIMUM_DIMENSION)")
    }
    guard dimension > 0 else { throw LineupError(.inputIsEmpty, "the feature vector is empty") }
    let (_, overflow) = rows.multipliedReportingOverflow(by: dimension)
    guard !overflow, rows <= Int.max / 4 / dimension else { throw invalid("rows × dimension overflows") }
    guard pointer != nil else { throw invalid("matrix is NULL") }
}

/// Writes a result pointer, refusing a NULL out-parameter.
func output<T>(_ out: UnsafeMutablePointer<T>?, _ what: String) throws -> UnsafeMutablePointer<T> {
    guard let out else { throw invalid("\(what) is NULL") }
    return out
}

/// A NUL-terminated copy of `value` the library owns (freed with `free`).
func ownedCString(_ value: String) -> UnsafePointer<CChar> {
    var value = value
    return value.withUTF8 { bytes in
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        if let base = bytes.baseAddress {
            UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: bytes.count)
        }
        copy[bytes.count] = 0
        return UnsafePointer(copy)
    }
}

func release(_ pointer: UnsafePointer<CChar>?) {
    pointer.map { UnsafeMutablePointer(mutating: $0).deallocate() }
}

// MARK: Handles

final class OptionsBox {
    var options = ConfigurationOptions()
}

final class SDKBox {
    let sdk: SDK
    init(_ sdk: SDK) { self.sdk = sdk }
}

func options(_ handle: OpaquePointer?) throws -> OptionsBox {
    guard let handle else { throw invalid("options is NULL") }
    return Unmanaged<OptionsBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

func sdk(_ handle: OpaquePointer?) throws -> SDK {
    guard let handle else { throw invalid("sdk is NULL") }
    return Unmanaged<SDKBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().sdk
}

@_cdecl("lineup_options_create")
public func lineupOptionsCreate(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> lineup_status {
    call {
        let out = try output(out, "out_options")
        out.pointee = OpaquePointer(Unmanaged.passRetained(OptionsBox()).toOpaque())
    }
}

@_cdecl("lineup_options_free")
public func lineupOptionsFree(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<OptionsBox>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("lineup_options_set_dbms")
public func lineupOptionsSetDBMS(_ handle: OpaquePointer?, _ value: Int32) -> lineup_status {
    call {
        let box = try options(handle)
        switch value {
        case raw(LINEUP_DBMS_NONE): box.options.dbms = .none
        case raw(LINEUP_DBMS_FILE): box.options.dbms = .file
        case raw(LINEUP_DBMS_SHARED): box.options.dbms = .shared
        case raw(LINEUP_DBMS_POSTGRESQL): box.options.dbms = .postgresql
        default: throw invalid("dbms \(value) is not one of enum lineup_dbms")
        }
    }
}

@_cdecl("lineup_options_set_fr_model")
public func lineupOptionsSetFRModel(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call {
        let box = try options(handle)
        let model = try text(name, "model_name")
        try Validation.modelName(model)
        box.options.frModel = model
    }
}

@_cdecl("lineup_options_set_vector_compression")
public func lineupOptionsSetVectorCompression(_ handle: OpaquePointer?, _ value: Int32) -> lineup_status {
    call {
        let box = try options(handle)
        switch value {
        case raw(LINEUP_COMPRESSION_NONE): box.options.vectorCompression = .none
        case raw(LINEUP_COMPRESSION_FP16): box.options.vectorCompression = .fp16
        case raw(LINEUP_COMPRESSION_INT8): box.options.vectorCompression = .int8
        default: throw invalid("compression \(value) is not one of enum lineup_vector_compression")
        }
    }
}

@_cdecl("lineup_options_set_encryption_key")
public func lineupOptionsSetEncryptionKey(_ handle: OpaquePointer?, _ passphrase: UnsafePointer<CChar>?) -> lineup_status {
    call {
        let box = try options(handle)
        box.options.encryptionKey = passphrase == nil ? nil : try text(passphrase, "passphrase")
    }
}

@_cdecl("lineup_options_set_notification_check_interval")
public func lineupOptionsSetNotificationCheckInterval(_ handle: OpaquePointer?, _ seconds: Double) -> lineup_status {
    call {
        let box = try options(handle)
        guard seconds.isFinite, seconds >= 0 else { throw invalid("the check interval must be a finite number ≥ 0") }
        box.options.notificationCheckInterval = seconds == 0 ? nil : seconds
    }
}

@_cdecl("lineup_options_set_read_only")
public func lineupOptionsSetReadOnly(_ handle: OpaquePointer?, _ value: Int32) -> lineup_status {
    call { try options(handle).options.readOnly = value != 0 }
}

@_cdecl("lineup_options_set_durability")
public func lineupOptionsSetDurability(_ handle: OpaquePointer?, _ value: Int32) -> lineup_status {
    call {
        let box = try options(handle)
        switch value {
        case raw(LINEUP_DURABILITY_FULL): box.options.durability = .full
        case raw(LINEUP_DURABILITY_PROCESS_CRASH): box.options.durability = .processCrash
        default: throw invalid("durability \(value) is not one of enum lineup_durability")
        }
    }
}

@_cdecl("lineup_options_set_automatic_compaction")
public func lineupOptionsSetAutomaticCompaction(_ handle: OpaquePointer?, _ value: Int32) -> lineup_status {
    call { try options(handle).options.automaticCompaction = value != 0 }
}

@_cdecl("lineup_sdk_create")
public func lineupSDKCreate(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> lineup_status {
    call {
        let out = try output(out, "out_sdk")
        let settings = handle == nil ? ConfigurationOptions() : try options(handle).options
        out.pointee = OpaquePointer(Unmanaged.passRetained(SDKBox(SDK(options: settings))).toOpaque())
    }
}

@_cdecl("lineup_sdk_free")
public func lineupSDKFree(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<SDKBox>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// MARK: Database and collections

@_cdecl("lineup_create_database_connection")
public func lineupCreateDatabaseConnection(_ handle: OpaquePointer?, _ connection: UnsafePointer<CChar>?) -> lineup_status {
    call {
        let sdk = try sdk(handle)
        let string = sdk.options.dbms == .none && connection == nil ? "" : try text(connection, "connection_string")
        try sdk.createDatabaseConnection(string)
    }
}

@_cdecl("lineup_create_load_collection")
public func lineupCreateLoadCollection(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).createLoadCollection(try text(name, "collection_name")) }
}

@_cdecl("lineup_create_collection")
public func lineupCreateCollection(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).createCollection(try text(name, "collection_name")) }
}

@_cdecl("lineup_load_collection")
public func lineupLoadCollection(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).loadCollection(try text(name, "collection_name")) }
}

@_cdecl("lineup_load_collections")
public func lineupLoadCollections(_ handle: OpaquePointer?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
                                  _ count: Int) -> lineup_status {
    call {
        let sdk = try sdk(handle)
        guard count > 0 else { throw LineupError(.inputIsEmpty, "the list of collection names is empty") }
        guard let names else { throw invalid("collection_names is NULL") }
        try sdk.loadCollections(try (0..<count).map { try text(names[$0], "collection_names[\($0)]") })
    }
}

@_cdecl("lineup_delete_collection")
public func lineupDeleteCollection(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).deleteCollection(try text(name, "collection_name")) }
}

/// A C array of `count` owned strings.
func ownedStrings(_ values: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
    let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, values.count))
    for (index, value) in values.enumerated() { array[index] = ownedCString(value) }
    return UnsafePointer(array)
}

func releaseStrings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, count: Int) {
    guard let array else { return }
    for index in 0..<count { release(array[index]) }
    UnsafeMutablePointer(mutating: array).deallocate()
}

@_cdecl("lineup_get_collection_names")
public func lineupGetCollectionNames(_ handle: OpaquePointer?,
                                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<lineup_string_list>?>?) -> lineup_status {
    call {
        let out = try output(out, "out_names")
        let names = try sdk(handle).getCollectionNames()
        let list = UnsafeMutablePointer<lineup_string_list>.allocate(capacity: 1)
        list.initialize(to: lineup_string_list(count: names.count, items: ownedStrings(names)))
        out.pointee = list
    }
}

@_cdecl("lineup_free_string_list")
public func lineupFreeStringList(_ list: UnsafeMutablePointer<lineup_string_list>?) {
    guard let list else { return }
    releaseStrings(list.pointee.items, count: list.pointee.count)
    list.deallocate()
}

@_cdecl("lineup_get_collection_metadata")
public func lineupGetCollectionMetadata(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                        _ out: UnsafeMutablePointer<UnsafeMutablePointer<lineup_collection_metadata>?>?) -> lineup_status {
    call {
        let out = try output(out, "out_metadata")
        let metadata = try sdk(handle).getCollectionMetadata(try text(name, "collection_name"))
        let result = UnsafeMutablePointer<lineup_collection_metadata>.allocate(capacity: 1)
        result.initialize(to: lineup_collection_metadata(
            collection_name: ownedCString(metadata.collectionName), encrypted: metadata.encrypted ? 1 : 0,
            feature_vector_size_bytes: metadata.featureVectorSizeBytes, model_name: ownedCString(metadata.modelName),
            model_options: ownedCString(metadata.modelOptions), num_faceprints: metadata.numFaceprints,
            num_identities: metadata.numIdentities))
        out.pointee = result
    }
}

@_cdecl("lineup_free_collection_metadata")
public func lineupFreeCollectionMetadata(_ metadata: UnsafeMutablePointer<lineup_collection_metadata>?) {
    guard let metadata else { return }
    release(metadata.pointee.collection_name)
    release(metadata.pointee.model_name)
    release(metadata.pointee.model_options)
    metadata.deallocate()
}

@_cdecl("lineup_get_collection_identities")
public func lineupGetCollectionIdentities(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<lineup_identity_list>?>?) -> lineup_status {
    call {
        let out = try output(out, "out_identities")
        let pairs = try sdk(handle).getCollectionIdentities(try text(name, "collection_name")).sorted { $0.key < $1.key }
        let list = UnsafeMutablePointer<lineup_identity_list>.allocate(capacity: 1)
        list.initialize(to: lineup_identity_list(count: pairs.count, uuids: ownedStrings(pairs.map(\.key)),
                                                 identities: ownedStrings(pairs.map(\.value))))
        out.pointee = list
    }
}

@_cdecl("lineup_free_identity_list")
public func lineupFreeIdentityList(_ list: UnsafeMutablePointer<lineup_identity_list>?) {
    guard let list else { return }
    releaseStrings(list.pointee.uuids, count: list.pointee.count)
    releaseStrings(list.pointee.identities, count: list.pointee.count)
    list.deallocate()
}

// MARK: Enrollment and removal

/// Copies a UUID and its NUL into `LINEUP_UUID_SIZE` bytes at `destination`.
func writeUUID(_ uuid: String, to destination: UnsafeMutablePointer<CChar>) {
    var uuid = uuid
    uuid.withUTF8 { bytes in
        let count = min(bytes.count, Int(LINEUP_UUID_SIZE) - 1)
        UnsafeMutableRawPointer(destination).copyMemory(from: bytes.baseAddress!, byteCount: count)
        destination[count] = 0
    }
}

@_cdecl("lineup_enroll_faceprint")
public func lineupEnrollFaceprint(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ dimension: Int,
                                  _ model: UnsafePointer<CChar>?, _ identity: UnsafePointer<CChar>?,
                                  _ name: UnsafePointer<CChar>?, _ outUUID: UnsafeMutablePointer<CChar>?) -> lineup_status {
    call {
        let sdk = try sdk(handle)
        let faceprint = Faceprint(featureVector: try vector(values, dimension), modelName: try modelName(model))
        let uuid = try sdk.enrollFaceprint(faceprint, identity: try text(identity, "identity"), collectionName: try collection(name))
        if let outUUID { writeUUID(uuid, to: outUUID) }
    }
}

@_cdecl("lineup_enroll_faceprints")
public func lineupEnrollFaceprints(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ rows: Int, _ dimension: Int,
                                   _ model: UnsafePointer<CChar>?, _ identities: UnsafePointer<CChar>?, _ identitiesSize: Int,
                                   _ name: UnsafePointer<CChar>?, _ outUUIDs: UnsafeMutablePointer<CChar>?) -> lineup_status {
    call {
        let sdk = try sdk(handle)
        guard rows > 0 else { throw LineupError(.inputIsEmpty, "no Faceprints to enroll") }
        let model = try modelName(model)
        try checkMatrix(values, rows: rows, dimension: dimension)
        guard identitiesSize > 0, let identities else { throw invalid("identities is NULL or empty") }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(identities).assumingMemoryBound(to: UInt8.self), count: identitiesSize)
        guard bytes.last == 0 else { throw invalid("identities must end in a NUL") }
        let parts = bytes.dropLast().split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == rows else { throw invalid("\(parts.count) identities for \(rows) rows") }
        let names = try parts.enumerated().map { index, part in
            guard let value = String(validating: part, as: UTF8.self) else { throw invalid("identity \(index) is not valid UTF-8") }
            return value
        }
        let uuids = try sdk.enrollFaceprints(matrix: UnsafeBufferPointer(start: values, count: rows * dimension), dimension: dimension,
                                             identities: names, modelName: model, collectionName: try collection(name))
        if let outUUIDs {
            for (index, uuid) in uuids.enumerated() { writeUUID(uuid, to: outUUIDs + index * Int(LINEUP_UUID_SIZE)) }
        }
    }
}

@_cdecl("lineup_remove_by_uuid")
public func lineupRemoveByUUID(_ handle: OpaquePointer?, _ uuid: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).removeByUUID(try text(uuid, "uuid"), collectionName: try collection(name)) }
}

@_cdecl("lineup_remove_by_identity")
public func lineupRemoveByIdentity(_ handle: OpaquePointer?, _ identity: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?,
                                   _ outRemoved: UnsafeMutablePointer<Int>?) -> lineup_status {
    call {
        let removed = try sdk(handle).removeByIdentity(try text(identity, "identity"), collectionName: try collection(name))
        outRemoved?.pointee = removed
    }
}

// MARK: Identification

/// The candidates of P probes in the dense layout of `lineup_matches`.
func matches(_ results: [[Candidate]]) -> UnsafeMutablePointer<lineup_matches> {
    let probes = results.count
    let columns = results.map(\.count).max() ?? 0
    let slots = probes * columns
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(1, probes))
    let similarities = UnsafeMutablePointer<Float>.allocate(capacity: max(1, slots))
    let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: max(1, slots))
    let uuids = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, slots))
    let identities = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, slots))
    let uuidText = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, slots * Int(LINEUP_UUID_SIZE)))
    let identityBytes = results.joined().reduce(0) { $0 + $1.identity.utf8.count + 1 }
    let identityText = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, identityBytes))
    similarities.initialize(repeating: .nan, count: max(1, slots))
    probabilities.initialize(repeating: .nan, count: max(1, slots))
    uuids.initialize(repeating: nil, count: max(1, slots))
    identities.initialize(repeating: nil, count: max(1, slots))
    uuidText.initialize(repeating: 0, count: max(1, slots * Int(LINEUP_UUID_SIZE)))
    var offset = 0
    for (probe, candidates) in results.enumerated() {
        counts[probe] = candidates.count
        for (rank, candidate) in candidates.enumerated() {
            let slot = probe * columns + rank
            similarities[slot] = candidate.similarityMeasure
            probabilities[slot] = candidate.matchProbability
            let uuid = uuidText + slot * Int(LINEUP_UUID_SIZE)
            writeUUID(candidate.uuid, to: uuid)
            uuids[slot] = UnsafePointer(uuid)
            var identity = candidate.identity
            identity.withUTF8 { bytes in
                if let base = bytes.baseAddress {
                    UnsafeMutableRawPointer(identityText + offset).copyMemory(from: base, byteCount: bytes.count)
                }
                identityText[offset + bytes.count] = 0
                identities[slot] = UnsafePointer(identityText + offset)
                offset += bytes.count + 1
            }
        }
    }
    let result = UnsafeMutablePointer<lineup_matches>.allocate(capacity: 1)
    result.initialize(to: lineup_matches(
        probe_count: probes, columns: columns, counts: UnsafePointer(counts),
        similarity_measures: UnsafePointer(similarities), match_probabilities: UnsafePointer(probabilities),
        uuids: UnsafePointer(uuids), identities: UnsafePointer(identities), uuid_text: UnsafePointer(uuidText),
        identity_text: UnsafePointer(identityText), identity_text_size: identityBytes))
    return result
}

@_cdecl("lineup_free_matches")
public func lineupFreeMatches(_ matches: UnsafeMutablePointer<lineup_matches>?) {
    guard let matches else { return }
    let value = matches.pointee
    value.counts.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    value.similarity_measures.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    value.match_probabilities.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    value.uuids.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    value.identities.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    value.uuid_text.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    value.identity_text.map { UnsafeMutablePointer(mutating: $0).deallocate() }
    matches.deallocate()
}

public typealias MatchesOut = UnsafeMutablePointer<UnsafeMutablePointer<lineup_matches>?>

/// The count argument of the top-N calls: a `size_t` above `Int.max` is read as `Int.max`
/// (no more candidates than Faceprints can match anyway).
func candidateCount(_ count: Int) -> Int { count < 0 ? Int.max : count }

@_cdecl("lineup_identify_top_candidate")
public func lineupIdentifyTopCandidate(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ dimension: Int,
                                       _ model: UnsafePointer<CChar>?, _ threshold: Float, _ name: UnsafePointer<CChar>?,
                                       _ out: MatchesOut?) -> lineup_status {
    call {
        let out = try output(out, "out_matches")
        let faceprint = Faceprint(featureVector: try vector(values, dimension), modelName: try modelName(model))
        let found = try sdk(handle).identifyTopCandidate(faceprint, threshold: threshold, collectionName: try collection(name))
        out.pointee = matches([found.map { [$0] } ?? []])
    }
}

@_cdecl("lineup_identify_top_candidates")
public func lineupIdentifyTopCandidates(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ dimension: Int,
                                        _ model: UnsafePointer<CChar>?, _ count: Int, _ threshold: Float,
                                        _ name: UnsafePointer<CChar>?, _ out: MatchesOut?) -> lineup_status {
    call {
        let out = try output(out, "out_matches")
        let faceprint = Faceprint(featureVector: try vector(values, dimension), modelName: try modelName(model))
        let found = try sdk(handle).identifyTopCandidates(faceprint, numCandidates: candidateCount(count), threshold: threshold,
                                                          collectionName: try collection(name))
        out.pointee = matches([found])
    }
}

@_cdecl("lineup_identify_top_identities")
public func lineupIdentifyTopIdentities(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ dimension: Int,
                                        _ model: UnsafePointer<CChar>?, _ count: Int, _ threshold: Float,
                                        _ name: UnsafePointer<CChar>?, _ out: MatchesOut?) -> lineup_status {
    call {
        let out = try output(out, "out_matches")
        let faceprint = Faceprint(featureVector: try vector(values, dimension), modelName: try modelName(model))
        let found = try sdk(handle).identifyTopIdentities(faceprint, numCandidates: candidateCount(count), threshold: threshold,
                                                          collectionName: try collection(name))
        out.pointee = matches([found])
    }
}

@_cdecl("lineup_batch_identify_top_candidate")
public func lineupBatchIdentifyTopCandidate(_ handle: OpaquePointer?, _ vectors: UnsafePointer<UnsafePointer<Float>?>?,
                                            _ count: Int, _ dimension: Int, _ model: UnsafePointer<CChar>?,
                                            _ threshold: Float, _ name: UnsafePointer<CChar>?, _ out: MatchesOut?) -> lineup_status {
    call {
        let out = try output(out, "out_matches")
        let sdk = try sdk(handle)
        let model = try modelName(model)
        var faceprints: [Faceprint] = []
        if count > 0 {
            guard let vectors else { throw invalid("vectors is NULL") }
            faceprints = try (0..<count).map { Faceprint(featureVector: try vector(vectors[$0], dimension, "vectors[\($0)]"), modelName: model) }
        }
        let found = try sdk.batchIdentifyTopCandidate(faceprints, threshold: threshold, collectionName: try collection(name))
        out.pointee = matches(found.map { $0.map { [$0] } ?? [] })
    }
}

@_cdecl("lineup_identify_matrix")
public func lineupIdentifyMatrix(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ rows: Int, _ dimension: Int,
                                 _ model: UnsafePointer<CChar>?, _ count: Int, _ threshold: Float, _ flags: UInt32,
                                 _ name: UnsafePointer<CChar>?, _ out: MatchesOut?) -> lineup_status {
    call {
        let out = try output(out, "out_matches")
        let sdk = try sdk(handle)
        guard flags & ~UInt32(LINEUP_IDENTIFY_DISTINCT_IDENTITIES.rawValue) == 0 else { throw invalid("unknown flags \(flags)") }
        let model = try modelName(model)
        let probes = try matrix(values, rows: rows, dimension: dimension).map { Faceprint(featureVector: $0, modelName: model) }
        let collection = try collection(name)
        let found = flags == 0
            ? try sdk.batchIdentifyTopCandidates(probes, numCandidates: candidateCount(count), threshold: threshold, collectionName: collection)
            : try sdk.batchIdentifyTopIdentities(probes, numCandidates: candidateCount(count), threshold: threshold, collectionName: collection)
        out.pointee = matches(found)
    }
}

// MARK: Maintenance

@_cdecl("lineup_compact")
public func lineupCompact(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> lineup_status {
    call { _ = try sdk(handle).compact(collectionName: name == nil ? nil : try text(name, "collection_name")) }
}

@_cdecl("lineup_rekey")
public func lineupRekey(_ handle: OpaquePointer?, _ passphrase: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).rekey(newEncryptionKey: try text(passphrase, "new_passphrase")) }
}

@_cdecl("lineup_backup")
public func lineupBackup(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> lineup_status {
    call { try sdk(handle).backup(to: try text(path, "path")) }
}
