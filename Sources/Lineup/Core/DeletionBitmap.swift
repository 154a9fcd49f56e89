/// The set of removed rows of one block of vectors: an immutable bitmap, one bit a row.
///
/// Removal never changes a bitmap in place: it makes a copy with one more bit set and
/// publishes that, so a snapshot that holds the old bitmap keeps answering as of its own time.
/// Thread-safe because immutable.
final class DeletionBitmap: Sendable {
    let words: [UInt64]
    /// How many bits are set.
    let removedCount: Int

    init(words: [UInt64]) {
        self.words = words
        self.removedCount = words.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// A bitmap of `rows` rows, none removed.
    convenience init(rows: Int) {
        self.init(words: [UInt64](repeating: 0, count: (rows + 63) / 64))
    }

    @inline(__always)
    func isRemoved(_ row: Int) -> Bool {
        let word = row >> 6
        guard word < words.count else { return false }
        return words[word] & (1 << UInt64(row & 63)) != 0
    }

    /// A copy with `rows` also removed, sized for at least `capacity` rows.
    func removing(_ rows: some Sequence<Int>, capacity: Int) -> DeletionBitmap {
        var copy = words
        let needed = (capacity + 63) / 64
        if copy.count < needed { copy.append(contentsOf: repeatElement(0, count: needed - copy.count)) }
        for row in rows {
            copy[row >> 6] |= 1 << UInt64(row & 63)
        }
        return DeletionBitmap(words: copy)
    }
}
