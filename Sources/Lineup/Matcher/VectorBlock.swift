import Synchronization

/// Something that holds a block of stored vectors and the records they belong to: an
/// in-memory chunk of a gallery today, a memory-mapped segment file in the on-disk engine.
///
/// Implementations are immutable for the rows a snapshot covers: rows below the count a
/// ``VectorBlock`` was made with never change while the block is alive.
protocol VectorBlockSource: AnyObject, Sendable {
    /// Calls `body` with the address of row 0 and, for int8 blocks, of the per-row scales.
    /// The pointers are valid only inside `body`.
    func withUnsafeVectors<R>(_ body: (UnsafeRawPointer, UnsafePointer<Float>?) throws -> R) rethrows -> R
    /// The UUID of row `row`.
    func recordID(at row: Int) -> RecordID
    /// The identity of row `row`.
    func identity(at row: Int) -> String
    /// Checks the stored vectors of `rows` before a scan reads them; false when damaged.
    func checkVectors(rows: Range<Int>) -> Bool
    /// Calls `body` with the identity of each row of `rows`, in order: what a pass over many
    /// rows uses, so that a source storing identities in compressed blocks decodes each block
    /// once, not once a row.
    func forEachIdentity(rows: Range<Int>, _ body: (Int, String) throws -> Void) rethrows
    /// Calls `body` with the block's compact codes (``CompactCode``), nil when it has none
    /// (in-memory chunks, int8 blocks, segments written before codes existed): those are
    /// scanned in full. The pointers are valid only inside `body`.
    func withUnsafeCodes<R>(_ body: (CompactCodes) throws -> R) rethrows -> R?
    /// Checks the codes of `rows` before a scan reads them; false when damaged.
    func checkCodes(rows: Range<Int>) -> Bool
    /// Lets the pages holding `rows`' vectors go from this process's memory where they can be
    /// read again from a file (a mapped segment); a no-op for memory the process owns.
    func releaseVectorPages(rows: Range<Int>)
}

extension VectorBlockSource {
    /// Memory the process wrote itself needs no check.
    func checkVectors(rows: Range<Int>) -> Bool { true }

    func withUnsafeCodes<R>(_ body: (CompactCodes) throws -> R) rethrows -> R? { nil }

    func checkCodes(rows: Range<Int>) -> Bool { true }

    func forEachIdentity(rows: Range<Int>, _ body: (Int, String) throws -> Void) rethrows {
        for row in rows { try body(row, identity(at: row)) }
    }

    func releaseVectorPages(rows: Range<Int>) {}
}

/// Where a block's compact codes are: row r's int8 code at `codes + r × stride`, its scale and
/// its bound (``CompactCode``) at index r of `scales` and `bounds`.
struct CompactCodes {
    let codes: UnsafeRawPointer
    let stride: Int
    let scales: UnsafePointer<Float>
    let bounds: UnsafePointer<Float>
    /// The largest of `bounds`: a row whose score plus it (times the probe's norm) is below
    /// a floor is ruled out without reading its own bound.
    let largestBound: Float
    /// The largest ‖c q‖ of each tile of rows, computed when first asked for.
    let normCeilings: CodeNormCeilings

    /// At least ‖c q‖ for every row of `rows`: the largest of the tiles they touch.
    func normCeiling(rows: Range<Int>, dimension: Int) -> Float {
        normCeilings.ceiling(self, rows: rows, dimension: dimension)
    }
}

/// The largest ‖c q‖ (a code's norm, its scale times the norm of its int8 elements) of each
/// ``Matcher/tileRows`` rows of a block's codes — what probes quantised for the integer kernel
/// multiply their own quantisation error by (``QuantizedProbes``) — each computed from the
/// codes the first time a scan asks for it, after the scan has checked those codes' checksums. Not stored: it is a function of the codes and scales the file holds, so a file
/// cannot make it too small. Safe from several threads (two may compute one tile's, and store
/// the same value).
final class CodeNormCeilings: @unchecked Sendable {
    private static let groupRows = Matcher.tileRows
    /// Not computed yet: a NaN's bits, which a ceiling (a finite float ≥ 0) never has.
    private static let unknown = UInt32.max
    private let rows: Int
    private let groups: Int
    private let values: UnsafeMutablePointer<Atomic<UInt32>>

    init(rows: Int) {
        self.rows = rows
        groups = (rows + Self.groupRows - 1) / Self.groupRows
        values = .allocate(capacity: max(groups, 1))
        for group in 0..<groups { (values + group).initialize(to: Atomic(Self.unknown)) }
    }

    deinit {
        values.deinitialize(count: groups)
        values.deallocate()
    }

    /// ‖c q‖ of one row's code: its scale times the square root of its exact integer sum of
    /// squares, rounded up.
    @inline(__always)
    private static func codeNormOf(_ codes: CompactCodes, row: Int, dimension: Int) -> Float {
        let code = (codes.codes + row * codes.stride).assumingMemoryBound(to: Int8.self)
        var squares: Int32 = 0   // at most 128² · 65536 = 2³⁰
        for d in 0..<dimension {
            let element = Int32(code[d])
            squares &+= element &* element
        }
        return Float(Double(squares).squareRoot() * Double(abs(codes.scales[row])) * (1 + 1e-12)).nextUp
    }

    fileprivate func ceiling(_ codes: CompactCodes, rows range: Range<Int>, dimension: Int) -> Float {
        guard !range.isEmpty else { return 0 }
        var largest: Float = 0
        for group in (range.lowerBound / Self.groupRows)...((range.upperBound - 1) / Self.groupRows) {
            var bits = values[group].load(ordering: .relaxed)
            if bits == Self.unknown {
                var ceiling: Float = 0
                for row in (group * Self.groupRows)..<min(rows, (group + 1) * Self.groupRows) {
                    ceiling = max(ceiling, Self.codeNormOf(codes, row: row, dimension: dimension))
                }
                bits = ceiling.bitPattern
                values[group].store(bits, ordering: .relaxed)
            }
            largest = max(largest, Float(bitPattern: bits))
        }
        return largest
    }
}

/// A run of `count` vectors of one encoding and dimension, `stride` bytes apart, with the rows
/// removed as of the snapshot that made it. What the matcher scans.
struct VectorBlock: Sendable {
    let source: any VectorBlockSource
    let encoding: VectorCompression
    let dimension: Int
    /// Bytes from one row to the next: a multiple of 64, so every row starts on a cache line.
    let stride: Int
    let count: Int
    /// Rows removed as of the snapshot; `nil` when none is.
    let removed: DeletionBitmap?

    @inline(__always)
    func isLive(_ row: Int) -> Bool {
        removed.map { !$0.isRemoved(row) } ?? true
    }
}

/// An immutable view of a collection at one moment: its blocks in enrollment order. Holding a
/// snapshot keeps its blocks' memory alive; writers never wait for it, nor it for them.
package struct CollectionSnapshot: Sendable {
    /// The collection's dimension; 0 while it is empty and has never held a Faceprint.
    let dimension: Int
    let encoding: VectorCompression
    let blocks: [VectorBlock]

    /// Rows a scan will visit (live or not).
    var rowCount: Int { blocks.reduce(0) { $0 + $1.count } }
}

