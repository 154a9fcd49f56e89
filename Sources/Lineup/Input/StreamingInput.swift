/// Input files read a piece at a time: a `.npy` array of vectors and a text file of lines.
/// Memory stays bounded by the buffer, whatever the file's size; every read goes through the
/// file-system layer.

/// A float32 or float64 `.npy` file of shape (N, D), C order, read rows at a time.
///
/// Opening reads and checks the header, and that the file holds exactly the data the shape
/// needs; the rows are read later, on demand.
final class NpyFile {
    let path: String
    let rows: Int
    let columns: Int
    private let elementType: NpyElementType
    private let dataOffset: Int
    private let fileSystem: any FileSystem
    private let descriptor: Int32
    private var raw: [UInt8] = []

    /// - Throws: `invalidArgument` naming the file and what is wrong with it.
    init(path: String, fileSystem: any FileSystem) throws {
        self.path = path
        self.fileSystem = fileSystem
        let descriptor: Int32
        do {
            descriptor = try fileSystem.open(path, writable: false, create: false, exclusive: false)
        } catch let error as LineupError {
            throw LineupError(.invalidArgument, "cannot read the .npy file \(path)", cause: error)
        }
        self.descriptor = descriptor
        do {
            let size = try fileSystem.size(descriptor)
            var prefix = [UInt8](repeating: 0, count: min(size, 12 + NpyPreamble.maximumHeaderLength))
            let got = try prefix.withUnsafeMutableBytes { try fileSystem.read(descriptor, into: $0, at: 0) }
            prefix.removeLast(prefix.count - got)
            let preamble = try NpyPreamble(parsing: prefix)
            let header = try NpyHeader(parsing: prefix[preamble.headerRange])
            (rows, columns) = try header.matrixDimensions()
            elementType = header.elementType
            dataOffset = preamble.headerRange.upperBound
            let (count, countOverflow) = rows.multipliedReportingOverflow(by: columns)
            let (bytes, bytesOverflow) = count.multipliedReportingOverflow(by: elementType.byteWidth)
            guard !countOverflow, !bytesOverflow else {
                throw LineupError.invalidNpy("the shape's data size (\(rows) x \(columns)) overflows")
            }
            let available = size - dataOffset
            guard bytes <= available else {
                throw LineupError.invalidNpy("the data section is truncated: the shape needs \(bytes) bytes but only \(available) follow the header")
            }
            guard bytes == available else {
                throw LineupError.invalidNpy("the file has \(available - bytes) trailing bytes after the \(bytes) bytes of array data")
            }
        } catch let error as LineupError where error.code == .invalidArgument {
            // The format's complaint, said of this file.
            fileSystem.close(descriptor)
            throw LineupError(.invalidArgument, "\(path)", cause: error)
        } catch {
            fileSystem.close(descriptor)
            throw error
        }
    }

    deinit { fileSystem.close(descriptor) }

    /// Reads rows `range` into `output` (`range.count × columns` floats), float64 narrowed as
    /// `Float(_:)` does.
    ///
    /// - Throws: `invalidArgument` when the file was cut short meanwhile; `ioError` on a failed read.
    func read(_ range: Range<Int>, into output: UnsafeMutableBufferPointer<Float>) throws {
        let width = elementType.byteWidth
        let byteCount = range.count * columns * width
        precondition(output.count >= range.count * columns)
        if raw.count < byteCount { raw = [UInt8](repeating: 0, count: byteCount) }
        let got = try raw.withUnsafeMutableBytes {
            try fileSystem.read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<byteCount]),
                                at: dataOffset + range.lowerBound * columns * width)
        }
        guard got == byteCount else { throw LineupError(.invalidArgument, "\(path) was cut short while being read") }
        raw.withUnsafeBytes { bytes in
            switch elementType {
            case .float32:
                for index in 0..<(range.count * columns) {
                    output[index] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                }
            case .float64:
                for index in 0..<(range.count * columns) {
                    output[index] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
                }
            }
        }
    }
}

/// A text file's lines, read through a buffer: each without its `\n` (and a `\r` before it),
/// the last one also without a final newline. Lines that are not UTF-8 are refused.
final class LineFile {
    let path: String
    private let fileSystem: any FileSystem
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var fileOffset = 0
    private var finished = false
    private(set) var lineNumber = 0
    private static let chunk = 1 << 20

    init(path: String, what: String, fileSystem: any FileSystem) throws {
        self.path = path
        self.fileSystem = fileSystem
        do {
            descriptor = try fileSystem.open(path, writable: false, create: false, exclusive: false)
        } catch let error as LineupError {
            throw LineupError(.invalidArgument, "cannot read the \(what) file \(path)", cause: error)
        }
    }

    deinit { fileSystem.close(descriptor) }

    /// The next line, or nil at the end of the file.
    ///
    /// - Throws: `invalidArgument` for a line that is not valid UTF-8; `ioError` on a failed read.
    func next() throws -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                return try line(start..<newline, next: newline + 1)
            }
            if finished {
                guard start < buffer.count else { return nil }
                return try line(start..<buffer.count, next: buffer.count)
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: Self.chunk))
            let got = try buffer.withUnsafeMutableBytes {
                try fileSystem.read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[old..<(old + Self.chunk)]), at: fileOffset)
            }
            buffer.removeLast(Self.chunk - got)
            fileOffset += got
            if got == 0 { finished = true }
            guard buffer.count - start <= 16 << 20 else {
                throw LineupError(.invalidArgument, "\(path) line \(lineNumber + 1) is longer than 16 MiB")
            }
        }
    }

    private func line(_ range: Range<Int>, next: Int) throws -> String {
        lineNumber += 1
        start = next
        var bytes = buffer[range]
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LineupError(.invalidArgument, "\(path) line \(lineNumber) is not valid UTF-8")
        }
        return text
    }
}
