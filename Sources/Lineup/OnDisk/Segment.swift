import Dispatch
import LineupKernels
import Synchronization

/// A sealed segment file, mapped read-only: a block of vectors the matcher scans in place, and
/// the tables that find a row by UUID or identity without a heap object per row.
///
/// Opening checks the header, every section's CRC32C and every identity block, so a damaged
/// file is `corruptStore` at open and never a wrong answer later. Immutable and thread-safe;
/// the mapping lives as long as any snapshot holds the segment.
final class Segment: VectorBlockSource, @unchecked Sendable {
    /// How much of a segment its open checks.
    enum Verification {
        /// Every byte: header, every section, every MiB of vectors (verify, dump, tests).
        case full
        /// Header and tables now; each MiB of vectors the first time a scan needs it, so that
        /// opening costs O(tables), not O(vectors). A damaged MiB makes that scan, and every
        /// later one, throw `corruptStore`.
        case vectorsOnFirstUse
        /// Header only: a file this process has just written and synced, whose checksums were
        /// computed from the bytes in memory (reading them back through the page cache would
        /// find those same bytes).
        case justWritten
    }

    let header: SegmentHeader
    /// The file's size on disk: the envelope's in an encrypted store, else the header's.
    let fileSize: UInt64
    private let region: MappedRegion
    /// The vectors' MiB checks, and the codes' (version 2, float32 and fp16; else empty).
    private let vectorChecks: LazyChecksums
    private let codeChecks: LazyChecksums
    /// The largest of the rows' code bounds (0 without codes).
    private let largestCodeBound: Float
    /// The codes' largest ‖c q‖ per tile, as scans first need them.
    private let codeNormCeilings: CodeNormCeilings

    var rowCount: Int { header.rowCount }

    /// Opens and checks `path`, which the manifest says is segment `number` of collection
    /// `collectionID`, of `fileSize` bytes.
    convenience init(fileSystem: any FileSystem, path: String, number: UInt64, collectionID: UInt32,
                     fileSize: UInt64, storeID: RecordID, verification: Verification = .full,
                     cipher: StoreCipher? = nil) throws {
        let name = FormatConstants.segmentName(number)
        let descriptor: Int32
        do {
            descriptor = try fileSystem.open(path, writable: false, create: false, exclusive: false)
        } catch let error as LineupError {
            throw LineupError(.corruptStore, "segment \(name) is missing or unreadable", cause: error)
        }
        defer { fileSystem.close(descriptor) }
        let size = try fileSystem.size(descriptor)
        guard UInt64(size) == fileSize, size >= FormatConstants.segmentHeaderSize else {
            throw LineupError(.corruptStore, "segment \(name) has \(size) bytes; the manifest says \(fileSize)")
        }
        if let cipher {
            // An encrypted segment is decrypted into locked process memory; every chunk's tag
            // is checked on the way, so its vectors need no checksum pass of their own.
            let (_, plaintext) = try cipher.openFile(size: size, read: { buffer, offset in
                try fileSystem.read(descriptor, into: buffer, at: offset)
            }, kind: .segment, number: number, name: "segment \(name)")
            try self.init(region: plaintext, fileSize: fileSize, number: number, collectionID: collectionID, storeID: storeID,
                          verification: verification, authenticated: true)
        } else {
            try self.init(region: try fileSystem.map(descriptor, length: size), fileSize: fileSize, number: number,
                          collectionID: collectionID, storeID: storeID, verification: verification, authenticated: false)
        }
    }

    /// A segment over its bytes in `region`: the file mapped, or its plaintext in memory.
    /// `authenticated` bytes (decrypted, every tag checked; or kept from the write itself)
    /// need no vector checksum pass.
    init(region: MappedRegion, fileSize: UInt64, number: UInt64, collectionID: UInt32, storeID: RecordID,
         verification: Verification, authenticated: Bool) throws {
        self.fileSize = fileSize
        self.region = region
        header = try region.withUnsafeBytes { try SegmentHeader.decode($0, fileSize: region.count) }
        guard header.segmentNumber == number, header.collectionID == collectionID, header.storeID == storeID else {
            throw LineupError(.corruptStore, "segment \(FormatConstants.segmentName(number)) belongs elsewhere")
        }
        let checked = verification == .justWritten || authenticated
        let vectors = header.sections[SegmentHeader.Section.vectors.rawValue]
        vectorChecks = LazyChecksums(data: vectors, table: header.sections[SegmentHeader.Section.vectorChecksums.rawValue].offset,
                                     checked: checked)
        if header.hasCodes {
            let codes = header.sections[SegmentHeader.Section.codes.rawValue]
            codeChecks = LazyChecksums(data: codes, table: header.sections[SegmentHeader.Section.codeTable.rawValue].offset + header.rowCount * 8,
                                       checked: checked)
        } else {
            codeChecks = LazyChecksums(data: .init(offset: 0, length: 0, checksum: 0), table: 0, checked: true)
        }
        // The largest bound, for a scan's first test of a row; a bound that is not a number at
        // or above zero, or a scale that is not finite, would let a scan drop a row it needs.
        // Every open checks them: the table is 8 bytes a row, already checked against its CRC
        // (or just written).
        var largest: Float = 0
        if header.hasCodes {
            let rows = header.rowCount
            let scales = header.sections[SegmentHeader.Section.codeTable.rawValue].offset
            let bounds = scales + rows * 4
            let good = region.withUnsafeBytes { bytes in
                (0..<rows).allSatisfy { row in
                    let scale = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: scales + row * 4, as: UInt32.self)))
                    let bound = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bounds + row * 4, as: UInt32.self)))
                    largest = max(largest, bound)
                    return bound >= 0 && scale.isFinite
                }
            }
            guard good else {
                throw LineupError(.corruptStore, "segment \(FormatConstants.segmentName(number)) is damaged")
            }
        }
        largestCodeBound = largest
        codeNormCeilings = CodeNormCeilings(rows: header.hasCodes ? header.rowCount : 0)
        switch verification {
        case .full: try verify(vectors: !authenticated)
        case .vectorsOnFirstUse: try verify(vectors: false)
        case .justWritten: break
        }
    }

    deinit {
        if let release = releaseAction.withLock({ $0 }) { release() }
    }

    private let releaseAction = Mutex<(@Sendable () -> Void)?>(nil)

    /// Deletes the file once the last reference to this segment — the collection's or a
    /// snapshot's — is gone (a compaction replaced it): no scan in this process ever reads
    /// an unlinked mapping's neighbour file, and the space returns as soon as nothing uses it.
    func removeFileWhenReleased(fileSystem: any FileSystem, path: String) {
        releaseAction.withLock { $0 = { try? fileSystem.unlink(path) } }
    }

    /// Checks, once, every MiB of vectors that rows `rows` touch; false when one is damaged.
    func checkVectors(rows: Range<Int>) -> Bool {
        vectorChecks.check(rows: rows, stride: header.rowStride, in: region)
    }

    /// Checks, once, every MiB of codes that rows `rows` touch; false when one is damaged.
    func checkCodes(rows: Range<Int>) -> Bool {
        codeChecks.check(rows: rows, stride: header.codeStride, in: region)
    }

    /// Checks every section's checksum (the vectors too when `vectors`) and that the tables are
    /// consistent.
    private func verify(vectors checkVectorSection: Bool) throws {
        let damaged = LineupError(.corruptStore, "segment \(FormatConstants.segmentName(header.segmentNumber)) is damaged")
        try region.withUnsafeBytes { bytes in
            // The padding between sections is zero (FORMAT.md §6.2): no byte goes unchecked.
            var end = FormatConstants.segmentHeaderSize
            for section in SegmentHeader.fileOrder(version: header.version) {
                let entry = header.sections[section.rawValue]
                guard bytes[end..<entry.offset].allSatisfy({ $0 == 0 }) else { throw damaged }
                end = entry.offset + entry.length
            }
            // Row padding inside the vectors and the codes is covered by their MiB checksums.
            for (index, entry) in header.sections.enumerated()
            where index != SegmentHeader.Section.vectors.rawValue && index != SegmentHeader.Section.codes.rawValue {
                let section = UnsafeRawBufferPointer(rebasing: bytes[entry.offset..<(entry.offset + entry.length)])
                guard Checksum.crc32c(section) == entry.checksum else { throw damaged }
            }
        }
        if checkVectorSection {
            // Every MiB of vectors and codes, in runs of 24 spread over the cores.
            for checks in [vectorChecks, codeChecks] {
                let run = 24
                let runs = (checks.count + run - 1) / run
                let damagedRuns = Atomic<Int>(0)
                DispatchQueue.concurrentPerform(iterations: runs) { index in
                    if !checks.check(blocks: (index * run)..<min(checks.count, (index + 1) * run), in: region) {
                        damagedRuns.add(1, ordering: .relaxed)
                    }
                }
                guard damagedRuns.load(ordering: .relaxed) == 0 else { throw damaged }
            }
        }
        // The UUID order must be a permutation sorted by UUID; identity blocks must decode.
        var seen = [Bool](repeating: false, count: rowCount)
        var previous: RecordID?
        for position in 0..<rowCount {
            let row = Int(u32(section: .uuidOrder, at: position * 4))
            guard row < rowCount, !seen[row] else { throw damaged }
            seen[row] = true
            let id = recordID(at: row)
            if let previous, !(previous < id) { throw damaged }
            previous = id
        }
        for position in 0..<rowCount {
            let row = Int(u32(section: .identityIndex, at: position * 12 + 8))
            guard row < rowCount else { throw damaged }
        }
        for block in 0..<blockCount {
            guard withIdentityBlock(block, { IdentityBlock.isWellFormed($0, rows: $1) }) == true else {
                throw damaged
            }
        }
    }

    // MARK: VectorBlockSource

    func withUnsafeVectors<R>(_ body: (UnsafeRawPointer, UnsafePointer<Float>?) throws -> R) rethrows -> R {
        let vectors = region.address(header.sections[SegmentHeader.Section.vectors.rawValue].offset)
        var scales: UnsafePointer<Float>?
        if header.encoding == .int8 {
            scales = region.address(header.sections[SegmentHeader.Section.scales.rawValue].offset)
                .bindMemory(to: Float.self, capacity: rowCount)
        }
        return try body(vectors, scales)
    }

    func withUnsafeCodes<R>(_ body: (CompactCodes) throws -> R) rethrows -> R? {
        guard header.hasCodes else { return nil }
        let table = header.sections[SegmentHeader.Section.codeTable.rawValue].offset
        return try body(CompactCodes(
            codes: region.address(header.sections[SegmentHeader.Section.codes.rawValue].offset), stride: header.codeStride,
            scales: region.address(table).bindMemory(to: Float.self, capacity: rowCount),
            bounds: region.address(table + rowCount * 4).bindMemory(to: Float.self, capacity: rowCount),
            largestBound: largestCodeBound, normCeilings: codeNormCeilings))
    }

    func recordID(at row: Int) -> RecordID {
        region.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes, offset: header.sections[SegmentHeader.Section.uuids.rawValue].offset + row * 16)
            return try! reader.recordID()   // bounds checked at open
        }
    }

    /// Decompresses the row's identity block and makes a String of this row's identity only
    /// (a result's lookup), not of the block's other rows.
    func identity(at row: Int) -> String {
        withIdentityBlock(row / FormatConstants.identityBlockRows) { raw, _ in
            IdentityBlock.identity(at: row % FormatConstants.identityBlockRows, in: raw)
        }!   // every block was checked at open
    }

    func releaseVectorPages(rows: Range<Int>) {
        let start = header.sections[SegmentHeader.Section.vectors.rawValue].offset
        region.releasePages((start + rows.lowerBound * header.rowStride)..<(start + rows.upperBound * header.rowStride))
    }

    func forEachIdentity(rows: Range<Int>, _ body: (Int, String) throws -> Void) rethrows {
        var row = rows.lowerBound
        while row < rows.upperBound {
            let block = row / FormatConstants.identityBlockRows
            let identities = identityBlock(block)!
            let first = block * FormatConstants.identityBlockRows
            while row < rows.upperBound && row - first < identities.count {
                try body(row, identities[row - first])
                row += 1
            }
        }
    }

    // MARK: Lookups

    /// The row holding `id`, by binary search of the UUID order table.
    func row(of id: RecordID) -> Int? {
        var low = 0, high = rowCount
        while low < high {
            let middle = (low + high) / 2
            let row = Int(u32(section: .uuidOrder, at: middle * 4))
            let candidate = recordID(at: row)
            if candidate == id { return row }
            if candidate < id { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// Every row enrolled under `identity`, ascending.
    func rows(of identity: String) -> [Int] {
        let hash = identityHash(identity)
        var low = 0, high = rowCount
        while low < high {
            let middle = (low + high) / 2
            if u64(section: .identityIndex, at: middle * 12) < hash { low = middle + 1 } else { high = middle }
        }
        var rows: [Int] = []
        var position = low
        while position < rowCount && u64(section: .identityIndex, at: position * 12) == hash {
            let row = Int(u32(section: .identityIndex, at: position * 12 + 8))
            if self.identity(at: row).hasSameBytes(as: identity) { rows.append(row) }
            position += 1
        }
        return rows.sorted()
    }

    /// Calls `body` with each row's identity hash and row number, in hash order, reading only
    /// the identity index (no decompression).
    func forEachIdentityHash(_ body: (UInt64, Int) -> Void) {
        for position in 0..<rowCount {
            body(u64(section: .identityIndex, at: position * 12), Int(u32(section: .identityIndex, at: position * 12 + 8)))
        }
    }

    /// Calls `body` with each row's UUID and identity, in row order.
    func forEachRecord(_ body: (Int, RecordID, String) -> Void) {
        for block in 0..<blockCount {
            let identities = identityBlock(block)!
            for (index, identity) in identities.enumerated() {
                let row = block * FormatConstants.identityBlockRows + index
                body(row, recordID(at: row), identity)
            }
        }
    }

    /// The int8 scale of one row (1 for the other encodings).
    func scale(at row: Int) -> Float {
        guard header.encoding == .int8 else { return 1 }
        return region.withUnsafeBytes {
            Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(
                fromByteOffset: header.sections[SegmentHeader.Section.scales.rawValue].offset + row * 4, as: UInt32.self)))
        }
    }

    /// The stored bytes of one row (inspection, tests, compaction).
    func storedVector(at row: Int) -> [UInt8] {
        region.withUnsafeBytes { bytes in
            let start = header.sections[SegmentHeader.Section.vectors.rawValue].offset + row * header.rowStride
            return Array(bytes[start..<(start + header.dimension * header.encoding.bytesPerDimension)])
        }
    }

    // MARK: Internals

    private var blockCount: Int { (rowCount + FormatConstants.identityBlockRows - 1) / FormatConstants.identityBlockRows }

    private func identityBlock(_ block: Int) -> [String]? {
        withIdentityBlock(block) { IdentityBlock.decode($0, rows: $1) }
    }

    /// Calls `body` with the decompressed bytes of identity block `block` (valid only inside
    /// `body`) and its row count; nil when the block's table entry or data is damaged.
    private func withIdentityBlock<R>(_ block: Int, _ body: (UnsafeRawBufferPointer, Int) -> R?) -> R? {
        region.withUnsafeBytes { bytes -> R? in
            let table = header.sections[SegmentHeader.Section.identityBlocks.rawValue]
            let data = header.sections[SegmentHeader.Section.identityData.rawValue]
            var reader = ByteReader(bytes, offset: table.offset + block * 16)
            guard let offset = try? reader.u64(), let compressed = try? reader.u32(), let raw = try? reader.u32(),
                  offset <= UInt64(data.length), UInt64(compressed) <= UInt64(data.length) - offset,
                  Int(raw) <= LZ4.maximumRawLength else { return nil }
            let start = data.offset + Int(offset)
            let rows = min(FormatConstants.identityBlockRows, rowCount - block * FormatConstants.identityBlockRows)
            let input = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(compressed))])
            // Scratch memory, not an array: nothing zeroes the block first, and a small block
            // (the usual few KiB) is decompressed on the stack.
            return withUnsafeTemporaryAllocation(byteCount: Int(raw), alignment: 1) { output in
                guard LZ4.decompress(input, into: output) else { return nil }
                return body(UnsafeRawBufferPointer(output), rows)
            }
        }
    }

    private func u32(section: SegmentHeader.Section, at offset: Int) -> UInt32 {
        region.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: header.sections[section.rawValue].offset + offset, as: UInt32.self))
        }
    }

    private func u64(section: SegmentHeader.Section, at offset: Int) -> UInt64 {
        region.withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: header.sections[section.rawValue].offset + offset, as: UInt64.self))
        }
    }
}

/// A section whose bytes are checked one MiB at a time against a table of CRC32Cs, each MiB
/// the first time something needs it (the vectors, the codes).
final class LazyChecksums: @unchecked Sendable {
    /// The section checked, and where its table starts (one u32 a MiB).
    let data: SegmentHeader.SectionEntry
    let table: Int
    /// MiBs in the section.
    let count: Int
    /// Per MiB: 0 unchecked, 1 good, 2 damaged.
    private let states: UnsafeMutablePointer<Atomic<UInt8>>

    init(data: SegmentHeader.SectionEntry, table: Int, checked: Bool) {
        self.data = data
        self.table = table
        count = SegmentHeader.vectorChecksumCount(data.length)
        states = .allocate(capacity: max(count, 1))
        for index in 0..<count { (states + index).initialize(to: Atomic(checked ? 1 : 0)) }
    }

    deinit {
        states.deinitialize(count: count)
        states.deallocate()
    }

    /// Checks the MiBs that rows `rows` of `stride` bytes touch.
    func check(rows: Range<Int>, stride: Int, in region: MappedRegion) -> Bool {
        guard !rows.isEmpty, count > 0 else { return true }
        let block = FormatConstants.vectorChecksumBlock
        return check(blocks: (rows.lowerBound * stride / block)..<((rows.upperBound * stride - 1) / block + 1), in: region)
    }

    /// Checks the MiBs of `blocks` not checked yet, three whole ones at a time through three
    /// independent CRC chains, and records each outcome; false when any of them is damaged.
    /// Safe from several threads: two threads may check one MiB, and both record the same
    /// outcome.
    func check(blocks: Range<Int>, in region: MappedRegion) -> Bool {
        let block = FormatConstants.vectorChecksumBlock
        var good = true
        var pending: [Int] = []
        for index in blocks {
            switch states[index].load(ordering: .acquiring) {
            case 1: continue
            case 2: good = false
            default: pending.append(index)
            }
        }
        guard !pending.isEmpty else { return good }
        region.withUnsafeBytes { bytes in
            func record(_ index: Int, _ crc: UInt32) {
                let expected = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: table + index * 4, as: UInt32.self))
                states[index].store(crc == expected ? 1 : 2, ordering: .releasing)
                if crc != expected { good = false }
            }
            let whole = pending.filter { ($0 + 1) * block <= data.length }
            var position = 0
            while position + 3 <= whole.count {
                let (a, b, c) = (whole[position], whole[position + 1], whole[position + 2])
                var crcs: (UInt32, UInt32, UInt32) = (0, 0, 0)
                withUnsafeMutableBytes(of: &crcs) { out in
                    let base = bytes.baseAddress! + data.offset
                    lineup_crc32c_3way(base + a * block, base + b * block, base + c * block, block,
                                       out.baseAddress!.assumingMemoryBound(to: UInt32.self))
                }
                record(a, crcs.0)
                record(b, crcs.1)
                record(c, crcs.2)
                position += 3
            }
            for index in whole[position...] + pending.filter({ ($0 + 1) * block > data.length }) {
                let start = data.offset + index * block
                let end = min(start + block, data.offset + data.length)
                record(index, Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
            }
        }
        return good
    }
}
