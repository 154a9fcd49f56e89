/// A string compared, hashed and ordered by its exact UTF-8 bytes.
///
/// Identities, collection names and the keys of enrollment lines are byte strings: stored
/// exactly as given and equal only when their bytes are. Swift's `String` compares by
/// Unicode canonical equivalence instead (`"caf\u{E9}" == "cafe\u{301}"`), and so do its
/// `Hashable` conformance and every `Dictionary` or `Set` keyed by `String`. Left to that, an
/// identity would match differently in the journal tail (a dictionary) than in a segment (a
/// byte hash), and counts would disagree with removals. Every such key is an `ExactText`.
package struct ExactText: Hashable, Comparable, Sendable, CustomStringConvertible {
    package let string: String

    package init(_ string: String) {
        self.string = string
    }

    package static func == (left: ExactText, right: ExactText) -> Bool {
        left.string.utf8.elementsEqual(right.string.utf8)
    }

    package static func < (left: ExactText, right: ExactText) -> Bool {
        left.string.utf8.lexicographicallyPrecedes(right.string.utf8)
    }

    package func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    package var description: String { string }
}

extension String {
    /// Whether the two strings have the same UTF-8 bytes (no Unicode normalisation).
    package func hasSameBytes(as other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}
