/// What a collection holds, as `SDK.getCollectionMetadata` reports it, loaded or not.
public struct CollectionMetadata: Codable, Sendable, Equatable {
    /// The collection's name.
    public var collectionName: String
    /// Whether the collection's store is encrypted at rest.
    public var encrypted: Bool
    /// Stored bytes per vector: dimension × 4 (`none`), × 2 (`fp16`) or × 1 (`int8`);
    /// 0 until the first enrollment fixes the dimension.
    public var featureVectorSizeBytes: Int
    /// The model whose Faceprints the collection accepts.
    public var modelName: String
    /// The collection's options, as JSON; names the vector compression at least
    /// (`{"vector_compression":"fp16"}`).
    public var modelOptions: String
    /// Live (enrolled, not removed) Faceprints.
    public var numFaceprints: Int
    /// Distinct identities among the live Faceprints.
    public var numIdentities: Int

    public init(collectionName: String, encrypted: Bool, featureVectorSizeBytes: Int,
                modelName: String, modelOptions: String, numFaceprints: Int, numIdentities: Int) {
        self.collectionName = collectionName
        self.encrypted = encrypted
        self.featureVectorSizeBytes = featureVectorSizeBytes
        self.modelName = modelName
        self.modelOptions = modelOptions
        self.numFaceprints = numFaceprints
        self.numIdentities = numIdentities
    }

    enum CodingKeys: String, CodingKey {
        case collectionName = "collection_name"
        case encrypted
        case featureVectorSizeBytes = "feature_vector_size_bytes"
        case modelName = "model_name"
        case modelOptions = "model_options"
        case numFaceprints = "num_faceprints"
        case numIdentities = "num_identities"
    }
}
