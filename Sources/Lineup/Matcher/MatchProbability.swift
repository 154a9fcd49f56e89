import Foundation
import Synchronization

/// The calibration from similarity to match probability: a logistic curve,
/// p(s) = 1 / (1 + e^(−steepness · (s − midpoint))), clamped to [0, 1].
///
/// The curve is monotone (non-decreasing in s), so ranking by probability and by similarity
/// agree. `midpoint` is the similarity at which a match and a non-match are equally likely;
/// `steepness` says how fast the probability rises around it. The parameters per model are a
/// calibration, not a property of the engine: fit them to your own genuine and impostor score
/// distributions (a logistic regression of same/different on similarity) and register them
/// with ``register(_:forModel:)``.
public struct MatchProbability: Sendable, Equatable, Codable {
    public var midpoint: Float
    public var steepness: Float

    public init(midpoint: Float, steepness: Float) {
        precondition(midpoint.isFinite && steepness.isFinite && steepness > 0,
                     "a calibration needs a finite midpoint and a positive, finite steepness")
        self.midpoint = midpoint
        self.steepness = steepness
    }

    private enum CodingKeys: String, CodingKey { case midpoint, steepness }

    /// Decodes a curve, refusing what ``init(midpoint:steepness:)`` refuses.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let midpoint = try container.decode(Float.self, forKey: .midpoint)
        let steepness = try container.decode(Float.self, forKey: .steepness)
        guard midpoint.isFinite, steepness.isFinite, steepness > 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a calibration needs a finite midpoint and a positive, finite steepness"))
        }
        self.init(midpoint: midpoint, steepness: steepness)
    }

    /// The probability for `similarity`, in [0, 1].
    public func probability(forSimilarity similarity: Float) -> Float {
        let exponent = Double(-steepness) * (Double(similarity) - Double(midpoint))
        let value = 1 / (1 + exp(exponent))
        return Float(min(max(value, 0), 1))
    }

    /// The curve for models without a registered one: even odds at 0.4, the seed's default
    /// threshold.
    public static let `default` = MatchProbability(midpoint: 0.4, steepness: 12)

    private static let registry = LockedDictionary<String, MatchProbability>([
        "TFV5_2": MatchProbability(midpoint: 0.35, steepness: 14),
        "TFV6": MatchProbability(midpoint: 0.35, steepness: 14),
        "TFV7": MatchProbability(midpoint: 0.35, steepness: 14),
        "LITE": MatchProbability(midpoint: 0.45, steepness: 12),
        "LITE_V2": MatchProbability(midpoint: 0.45, steepness: 12),
    ])

    /// The curve for `modelName`: the registered one, else ``default``.
    public static func curve(forModel modelName: String) -> MatchProbability {
        registry[modelName] ?? .default
    }

    /// Registers the curve for `modelName`, replacing any earlier one, for the whole process.
    public static func register(_ curve: MatchProbability, forModel modelName: String) {
        registry[modelName] = curve
    }
}

/// A dictionary behind a lock, for process-wide tables read far more often than written.
final class LockedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let storage: Mutex<[Key: Value]>

    init(_ initial: [Key: Value] = [:]) {
        storage = Mutex(initial)
    }

    subscript(key: Key) -> Value? {
        get { storage.withLock { $0[key] } }
        set { storage.withLock { $0[key] = newValue } }
    }
}
