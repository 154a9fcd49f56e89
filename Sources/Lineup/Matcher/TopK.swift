/// The best `capacity` hits seen so far, by score (higher first) and then position (earlier
/// first): a binary heap with the worst kept hit at the root, so a hit that cannot enter costs
/// one comparison.
struct TopK: Sendable {
    struct Entry: Sendable, Equatable {
        var score: Float
        /// The hit's place in enrollment order: block index in the high 32 bits, row in the low.
        var position: UInt64
    }

    let capacity: Int
    private var heap: [Entry] = []

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        heap.reserveCapacity(min(capacity, 1024))
    }

    /// Whether `a` ranks below `b`: a lower score, or the same score enrolled later.
    @inline(__always)
    static func ranksBelow(_ a: Entry, _ b: Entry) -> Bool {
        a.score < b.score || (a.score == b.score && a.position > b.position)
    }

    var isFull: Bool { heap.count == capacity }

    /// The score a new hit must reach to be considered at all (ties are settled by position).
    var entryScore: Float { isFull ? heap[0].score : -.infinity }

    mutating func offer(_ entry: Entry) {
        if heap.count < capacity {
            heap.append(entry)
            siftUp(heap.count - 1)
        } else if TopK.ranksBelow(heap[0], entry) {
            heap[0] = entry
            siftDown(0)
        }
    }

    /// The kept hits, best first.
    func sorted() -> [Entry] {
        heap.sorted { TopK.ranksBelow($1, $0) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard TopK.ranksBelow(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
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
            if right < heap.count && TopK.ranksBelow(heap[right], heap[left]) { worst = right }
            guard TopK.ranksBelow(heap[worst], heap[parent]) else { return }
            heap.swapAt(worst, parent)
            parent = worst
        }
    }
}
