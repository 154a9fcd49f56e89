import Foundation

/// SplitMix64: a small, seeded, deterministic generator, so that every run of the demo, the
/// benchmarks and the tests sees the same data. Not for anything secret (record IDs and keys
/// come from the system's generator).
package struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample (Box–Muller).
    package mutating func standardNormal() -> Double {
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// `dimension` independent normal components with standard deviation `scale`.
    package mutating func gaussianVector(_ dimension: Int, scale: Double) -> [Float] {
        (0..<dimension).map { _ in Float(standardNormal() * scale) }
    }
}
