/// What the scan offers its hits to: a plain top-k (``TopK``), or one that keeps each identity
/// once (``DistinctTopK``).
protocol HitCollector: Sendable {
    /// The score a new hit must reach to be considered at all (ties are settled by position).
    var entryScore: Float { get }
    /// Offers the hit at `row` of `block` (live, its score at least the threshold).
    mutating func offer(_ entry: TopK.Entry, block: VectorBlock, row: Int)
    /// The kept hits, best first.
    func sorted() -> [TopK.Entry]
    /// Offers what `other` (a collector of the same capacity over other rows) kept: the result
    /// is the collector of both sets of rows.
    mutating func merge(_ other: Self)
}

extension TopK: HitCollector {
    @inline(__always)
    mutating func offer(_ entry: Entry, block: VectorBlock, row: Int) { offer(entry) }

    mutating func merge(_ other: TopK) {
        for entry in other.sorted() { offer(entry) }
    }
}

/// The best `capacity` *identities* seen so far, each at its best hit: by score (higher first)
/// and then position (earlier first), like ``TopK``, over the best hit of each identity.
///
/// A binary heap with the worst kept identity at the root, and a map from identity to its
/// place in the heap. A hit that cannot enter costs one comparison, as in ``TopK``; only a hit
/// that could enter has its identity read (from the block: a segment decodes one entry of its
/// identity block). Exact: an identity whose best hit ranks among the best `capacity`
/// identities is kept, since every identity ranking above it does too, and there are fewer
/// than `capacity` of those; merging the collectors of several workers keeps that true.
struct DistinctTopK: HitCollector {
    private struct Kept {
        var entry: TopK.Entry
        var identity: ExactText
    }

    let capacity: Int
    private var heap: [Kept] = []
    private var places: [ExactText: Int] = [:]

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        heap.reserveCapacity(min(capacity, 1024))
    }

    var entryScore: Float { heap.count == capacity ? heap[0].entry.score : -.infinity }

    mutating func offer(_ entry: TopK.Entry, block: VectorBlock, row: Int) {
        if heap.count == capacity && !TopK.ranksBelow(heap[0].entry, entry) { return }
        offer(entry, identity: ExactText(block.source.identity(at: row)))
    }

    /// Offers a hit whose identity is known (merging workers' collectors).
    mutating func offer(_ entry: TopK.Entry, identity: ExactText) {
        if let place = places[identity] {
            // The identity is kept: a better hit of it moves it up (away from the root).
            guard TopK.ranksBelow(heap[place].entry, entry) else { return }
            heap[place].entry = entry
            siftDown(place)
        } else if heap.count < capacity {
            heap.append(Kept(entry: entry, identity: identity))
            places[identity] = heap.count - 1
            siftUp(heap.count - 1)
        } else if TopK.ranksBelow(heap[0].entry, entry) {
            places[heap[0].identity] = nil
            heap[0] = Kept(entry: entry, identity: identity)
            places[identity] = 0
            siftDown(0)
        }
    }

    func sorted() -> [TopK.Entry] {
        heap.map(\.entry).sorted { TopK.ranksBelow($1, $0) }
    }

    mutating func merge(_ other: DistinctTopK) {
        for kept in other.heap { offer(kept.entry, identity: kept.identity) }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        places[heap[a].identity] = a
        places[heap[b].identity] = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard TopK.ranksBelow(heap[child].entry, heap[parent].entry) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var worst = left
            let right = left + 1
            if right < heap.count && TopK.ranksBelow(heap[right].entry, heap[left].entry) { worst = right }
            guard TopK.ranksBelow(heap[worst].entry, heap[parent].entry) else { return }
            swapAt(worst, parent)
            parent = worst
        }
    }
}
