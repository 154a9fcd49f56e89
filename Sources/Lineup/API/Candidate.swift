/// One match from an identification: which Faceprint, whose, and how similar.
public struct Candidate: Codable, Sendable, Equatable {
    /// The UUID that enrollment returned for the matching Faceprint.
    public var uuid: String
    /// The identity the matching Faceprint was enrolled under.
    public var identity: String
    /// The cosine similarity of probe and stored vector, in [-1, 1].
    public var similarityMeasure: Float
    /// The calibrated probability that probe and match show the same person, in [0, 1];
    /// non-decreasing in ``similarityMeasure``. See ``MatchProbability``.
    public var matchProbability: Float

    public init(uuid: String, identity: String, similarityMeasure: Float, matchProbability: Float) {
        self.uuid = uuid
        self.identity = identity
        self.similarityMeasure = similarityMeasure
        self.matchProbability = matchProbability
    }

    enum CodingKeys: String, CodingKey {
        case uuid
        case identity
        case similarityMeasure = "similarity_measure"
        case matchProbability = "match_probability"
    }

    /// The seed's dictionary form: `uuid`, `identity`, `similarity_measure`,
    /// `match_probability`.
    public func toDictionary() -> [String: Any] {
        [
            "uuid": uuid,
            "identity": identity,
            "similarity_measure": similarityMeasure,
            "match_probability": matchProbability,
        ]
    }
}
