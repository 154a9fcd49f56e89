// Strict decoder for NumPy `.npy` files, used by Lineup to import float matrices.
//
// The file layout (NumPy format versions 1.0, 2.0 and 3.0) is:
//
//     offset 0   6 bytes   magic string "\x93NUMPY"
//     offset 6   1 byte    major version (1, 2 or 3)
//     offset 7   1 byte    minor version (always 0)
//     offset 8   2 bytes   header length, little-endian UInt16   (version 1.0)
//                4 bytes   header length, little-endian UInt32   (versions 2.0 and 3.0)
//     then       header    a Python dictionary literal in ASCII, padded with spaces and
//                          terminated by a newline, for example
//                          {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 512), }
//     then       data      the raw array elements, exactly as many bytes as the shape implies
//
// Files reaching a storage engine come from outside its control, so this reader treats
// every byte as untrusted:
//
// * every length and dimension is validated before anything is allocated from it, and the
//   only allocation sized by the file (the value array) happens after the data section has
//   been shown to contain exactly that many bytes, so a forged header cannot make us reserve
//   more memory than the file itself occupies;
// * all size arithmetic uses overflow-reporting operations, so a forged shape cannot wrap
//   around to a small, plausible byte count;
// * the header is parsed with a real (if tiny) tokenizer and recursive-descent parser rather
//   than substring searches, so that keys in any order, either quote style, extra whitespace
//   and trailing commas are handled, while look-alike text (a key name inside another string,
//   say) cannot fool it;
// * floats are read with unaligned little-endian loads, because the data section starts
//   wherever the header ends and nothing guarantees it is aligned for Float or Double;
// * error messages describe the structural problem and may quote short pieces of the header,
//   but never include array values.

/// A 2-D float matrix read from a .npy file, rows of `columns` Float32 values, row-major.
///
/// Float64 input is rounded to the nearest `Float`; magnitudes beyond `Float`'s range become
/// infinities and tiny magnitudes become zero, the same as `Float(_: Double)` does.
public struct NumpyMatrix: Sendable, Equatable {
    /// The number of rows; zero for an empty matrix.
    public var rows: Int
    /// The number of values in each row; at least one whenever `rows` is at least one.
    public var columns: Int
    /// `rows * columns` values in C (row-major) order.
    public var values: [Float]

    /// Creates a matrix from already decoded values.
    ///
    /// This is a plain memberwise initializer for callers (and tests) that build matrices
    /// directly; it checks the size invariant so that `row(_:)` can rely on it.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must not be negative")
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        precondition(!overflow && count == values.count,
                     "values must hold exactly rows * columns elements")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// The values of one row, as a slice of `values` (no copy).
    ///
    /// An out-of-range index is a programming error, so it traps just as array subscripting
    /// does rather than returning an empty slice that would hide the mistake.
    public func row(_ index: Int) -> ArraySlice<Float> {
        precondition(index >= 0 && index < rows, "row index \(index) is outside 0..<\(rows)")
        let start = index * columns
        return values[start ..< start + columns]
    }

    /// Parses the bytes of a .npy file (format versions 1.0, 2.0, 3.0).
    ///
    /// Accepts little-endian float32 (`<f4`, or `=f4` on a little-endian machine) and float64
    /// (`<f8`, `=f8`) data in C order with a one- or two-dimensional shape. A one-dimensional
    /// shape `(D,)` becomes a single row of `D` columns. Anything else, or any inconsistency
    /// between the header and the data that follows it, throws `invalidArgument`.
    public init(npyBytes bytes: [UInt8]) throws(LineupError) {
        let preamble = try NpyPreamble(parsing: bytes)
        let header = try NpyHeader(parsing: bytes[preamble.headerRange])
        let (rows, columns) = try header.matrixDimensions()

        let (count, countOverflow) = rows.multipliedReportingOverflow(by: columns)
        guard !countOverflow else {
            throw LineupError.invalidNpy("the shape's element count (\(rows) x \(columns)) overflows")
        }
        let elementWidth = header.elementType.byteWidth
        let (byteCount, byteOverflow) = count.multipliedReportingOverflow(by: elementWidth)
        guard !byteOverflow else {
            throw LineupError.invalidNpy("the shape's data size (\(count) elements of \(elementWidth) bytes) overflows")
        }
        // headerRange lies inside the file, so this subtraction cannot go negative.
        let dataStart = preamble.headerRange.upperBound
        let available = bytes.count - dataStart
        guard byteCount <= available else {
            throw LineupError.invalidNpy("the data section is truncated: the shape needs \(byteCount) bytes but only \(available) follow the header")
        }
        guard byteCount == available else {
            throw LineupError.invalidNpy("the file has \(available - byteCount) trailing bytes after the \(byteCount) bytes of array data")
        }

        self.rows = rows
        self.columns = columns
        self.values = NumpyMatrix.decodeValues(
            bytes, dataStart: dataStart, count: count, elementType: header.elementType)
    }

    /// Converts `count` little-endian elements starting at `dataStart` into `Float`s.
    ///
    /// The caller has already proven that `dataStart + count * byteWidth == bytes.count`, so
    /// every offset below is in bounds and the multiplications cannot overflow. Loads are
    /// unaligned because the data begins right after a header of arbitrary length, and the
    /// bit patterns are byte-swapped from little-endian so the code is also correct on a
    /// big-endian machine.
    private static func decodeValues(
        _ bytes: [UInt8], dataStart: Int, count: Int, elementType: NpyElementType
    ) -> [Float] {
        bytes.withUnsafeBytes { whole in
            let data = UnsafeRawBufferPointer(rebasing: whole[dataStart...])
            return [Float](unsafeUninitializedCapacity: count) { output, initializedCount in
                switch elementType {
                case .float32:
                    for index in 0 ..< count {
                        let bits = data.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)
                        output[index] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                case .float64:
                    for index in 0 ..< count {
                        let bits = data.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self)
                        output[index] = Float(Double(bitPattern: UInt64(littleEndian: bits)))
                    }
                }
                initializedCount = count
            }
        }
    }
}

extension LineupError {
    /// Why a byte sequence is not an acceptable .npy file (`invalidArgument`). The message
    /// names the rule that was broken (and, where useful, the header offset or the sizes
    /// involved) so that an operator can tell a truncated upload from an unsupported dtype,
    /// but it never contains array values, which may be confidential.
    static func invalidNpy(_ message: String) -> LineupError {
        LineupError(.invalidArgument, "invalid .npy file: \(message)")
    }
}

// MARK: - Preamble

/// The fixed-size part of the file: magic string, version and header length.
struct NpyPreamble {
    /// "\x93NUMPY": a non-ASCII first byte, so text tools do not mistake the file for text.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// No legitimate header for a 2-D float array comes anywhere near this size (NumPy's own
    /// reader refuses headers over 10 000 bytes by default); the limit keeps a forged length
    /// from making us tokenize megabytes of junk.
    static let maximumHeaderLength = 1 << 20

    /// Where the header text lies within the file; always within the file's bounds.
    var headerRange: Range<Int>

    init(parsing bytes: [UInt8]) throws(LineupError) {
        guard bytes.count >= NpyPreamble.magic.count + 2 else {
            throw LineupError.invalidNpy("the file is too short (\(bytes.count) bytes) to hold the magic string and version")
        }
        guard bytes[0 ..< NpyPreamble.magic.count].elementsEqual(NpyPreamble.magic) else {
            throw LineupError.invalidNpy("the file does not start with the \\x93NUMPY magic string")
        }
        let major = bytes[6]
        let minor = bytes[7]
        // Version 1.0 stores the header length in 2 bytes; 2.0 widened it to 4 bytes, and 3.0
        // only changed the header's text encoding, which we restrict to ASCII anyway.
        let lengthFieldWidth: Int
        switch (major, minor) {
        case (1, 0): lengthFieldWidth = 2
        case (2, 0), (3, 0): lengthFieldWidth = 4
        default:
            throw LineupError.invalidNpy("unsupported format version \(major).\(minor); only 1.0, 2.0 and 3.0 are understood")
        }
        let headerStart = 8 + lengthFieldWidth
        guard bytes.count >= headerStart else {
            throw LineupError.invalidNpy("the file ends inside the header length field")
        }
        var declaredLength: UInt32 = 0
        for position in 0 ..< lengthFieldWidth {
            declaredLength |= UInt32(bytes[8 + position]) << (8 * position)
        }
        // Compare before converting to Int: on a 32-bit platform a UInt32 length above
        // Int32.max would trap in the conversion.
        guard declaredLength <= UInt32(NpyPreamble.maximumHeaderLength) else {
            throw LineupError.invalidNpy("the header length \(declaredLength) exceeds the 1 MiB limit")
        }
        let headerLength = Int(declaredLength)
        guard headerLength <= bytes.count - headerStart else {
            throw LineupError.invalidNpy("the header length \(headerLength) extends beyond the end of the file (\(bytes.count - headerStart) bytes remain)")
        }
        headerRange = headerStart ..< headerStart + headerLength
    }
}

// MARK: - Header

/// The element types this reader accepts.
enum NpyElementType {
    case float32
    case float64

    var byteWidth: Int {
        switch self {
        case .float32: 4
        case .float64: 8
        }
    }
}

/// The decoded header dictionary.
struct NpyHeader {
    var elementType: NpyElementType
    /// The dimensions exactly as written; validated for rank by `matrixDimensions()`.
    var shape: [Int]

    /// NumPy writes shapes far below this rank; the cap only bounds work on forged headers.
    static let maximumRank = 64

    /// `=` in a dtype means "native byte order of the writer", which the format assumes is the
    /// reader's too. We only decode little-endian data, so `=` is acceptable only when this
    /// machine is little-endian (every current Linux target except s390x).
    static let platformIsLittleEndian = UInt16(1).littleEndian == 1

    init(parsing header: ArraySlice<UInt8>) throws(LineupError) {
        // The format allows UTF-8 in version 3.0 headers, but a header for float data never
        // needs it, and refusing it keeps the tokenizer's notion of a character simple.
        if let index = header.firstIndex(where: { $0 >= 0x80 }) {
            throw LineupError.invalidNpy("the header contains a non-ASCII byte at offset \(index - header.startIndex)")
        }
        // NumPy always terminates the padded header with a newline; its absence is a sign
        // that the declared header length is wrong.
        guard header.last == UInt8(ascii: "\n") else {
            throw LineupError.invalidNpy("the header does not end with a newline")
        }

        var parser = HeaderParser(tokens: try HeaderTokenizer.tokenize(header))
        var elementType: NpyElementType?
        var fortranOrder: Bool?
        var shape: [Int]?

        try parser.expectSymbol("{", describing: "to open the header dictionary")
        entries: while !parser.consumeSymbol("}") {
            let key = try parser.expectString(describing: "a dictionary key")
            try parser.expectSymbol(":", describing: "after the key '\(HeaderParser.abbreviate(key))'")
            switch key {
            case "descr":
                guard elementType == nil else { throw NpyHeader.duplicateKey(key) }
                elementType = try NpyHeader.parseDescr(&parser)
            case "fortran_order":
                guard fortranOrder == nil else { throw NpyHeader.duplicateKey(key) }
                let value = try NpyHeader.parseBool(&parser, key: key)
                guard !value else {
                    throw LineupError.invalidNpy("fortran_order is True; only C-order (row-major) data is supported")
                }
                fortranOrder = value
            case "shape":
                guard shape == nil else { throw NpyHeader.duplicateKey(key) }
                shape = try NpyHeader.parseShape(&parser)
            default:
                // NumPy itself rejects unknown keys; accepting them would let a file carry
                // metadata we silently ignore.
                throw LineupError.invalidNpy("the header has an unexpected key '\(HeaderParser.abbreviate(key))'")
            }
            if parser.consumeSymbol(",") { continue entries }
            if parser.consumeSymbol("}") { break entries }
            throw parser.unexpected(describing: "',' or '}' after a dictionary value")
        }
        if let extra = parser.peek() {
            throw LineupError.invalidNpy("unexpected text after the header dictionary at offset \(extra.offset)")
        }

        guard let elementType else { throw NpyHeader.missingKey("descr") }
        guard fortranOrder != nil else { throw NpyHeader.missingKey("fortran_order") }
        guard let shape else { throw NpyHeader.missingKey("shape") }
        self.elementType = elementType
        self.shape = shape
    }

    /// Maps the shape onto matrix dimensions: `(R, C)` as is, `(D,)` as a single row.
    func matrixDimensions() throws(LineupError) -> (rows: Int, columns: Int) {
        let rows: Int
        let columns: Int
        switch shape.count {
        case 1:
            rows = 1
            columns = shape[0]
        case 2:
            rows = shape[0]
            columns = shape[1]
        default:
            throw LineupError.invalidNpy("the shape has \(shape.count) dimensions; only 1-D and 2-D arrays are supported")
        }
        // A row with no columns has no meaningful vector; an empty matrix is (0, C).
        guard rows == 0 || columns >= 1 else {
            throw LineupError.invalidNpy("the shape has \(rows) row(s) but zero columns; a non-empty matrix needs at least one column")
        }
        return (rows, columns)
    }

    private static func duplicateKey(_ key: String) -> LineupError {
        LineupError.invalidNpy("the header has a duplicate key '\(key)'")
    }

    private static func missingKey(_ key: String) -> LineupError {
        LineupError.invalidNpy("the header is missing the required key '\(key)'")
    }

    /// Parses the value of `descr`, which must be a string naming a supported dtype.
    private static func parseDescr(_ parser: inout HeaderParser) throws(LineupError) -> NpyElementType {
        guard let token = parser.next() else {
            throw LineupError.invalidNpy("the header ends where the value of 'descr' should be")
        }
        guard case .string(let descr) = token.kind else {
            if token.kind == .symbol(UInt8(ascii: "[")) {
                throw LineupError.invalidNpy("structured dtypes (a list as descr) are not supported")
            }
            throw LineupError.invalidNpy("the value of 'descr' at offset \(token.offset) is not a string")
        }
        switch descr {
        case "<f4": return .float32
        case "<f8": return .float64
        case "=f4" where platformIsLittleEndian: return .float32
        case "=f8" where platformIsLittleEndian: return .float64
        case ">f4", ">f8":
            throw LineupError.invalidNpy("big-endian dtype '\(descr)' is not supported; only little-endian '<f4' and '<f8' are accepted")
        default:
            throw LineupError.invalidNpy("unsupported dtype '\(HeaderParser.abbreviate(descr))'; only little-endian '<f4' and '<f8' are accepted")
        }
    }

    /// Parses a Python boolean literal.
    private static func parseBool(_ parser: inout HeaderParser, key: String) throws(LineupError) -> Bool {
        switch parser.next()?.kind {
        case .word("True"): return true
        case .word("False"): return false
        default:
            throw LineupError.invalidNpy("the value of '\(key)' is not True or False")
        }
    }

    /// Parses a Python tuple of non-negative integers: `()`, `(D,)`, `(R, C)`, `(R, C,)`, ...
    ///
    /// `(D)` is rejected because in Python it is a parenthesized integer, not a tuple, and
    /// NumPy refuses it too.
    private static func parseShape(_ parser: inout HeaderParser) throws(LineupError) -> [Int] {
        guard parser.consumeSymbol("(") else {
            throw LineupError.invalidNpy("the value of 'shape' is not a tuple")
        }
        var dimensions: [Int] = []
        if parser.consumeSymbol(")") { return dimensions }
        var sawComma = false
        while true {
            guard dimensions.count < maximumRank else {
                throw LineupError.invalidNpy("the shape has more than \(maximumRank) dimensions")
            }
            dimensions.append(try parseDimension(&parser, position: dimensions.count))
            if parser.consumeSymbol(",") {
                sawComma = true
                if parser.consumeSymbol(")") { break }
                continue
            }
            if parser.consumeSymbol(")") { break }
            throw parser.unexpected(describing: "',' or ')' in the shape")
        }
        guard sawComma else {
            throw LineupError.invalidNpy("the value of 'shape' is a parenthesized integer, not a tuple (a 1-D shape is written (D,))")
        }
        return dimensions
    }

    /// Parses one dimension: a plain decimal integer without sign, leading zeros or
    /// underscores, exactly as NumPy writes it.
    private static func parseDimension(_ parser: inout HeaderParser, position: Int) throws(LineupError) -> Int {
        guard let token = parser.next() else {
            throw LineupError.invalidNpy("the header ends inside the shape")
        }
        let text: String
        switch token.kind {
        case .symbol(UInt8(ascii: "-")):
            throw LineupError.invalidNpy("shape dimension \(position) is negative")
        case .number(let digits):
            text = digits
        default:
            throw LineupError.invalidNpy("shape dimension \(position) at offset \(token.offset) is not an integer")
        }
        let isDecimalDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard text.utf8.allSatisfy(isDecimalDigit) else {
            throw LineupError.invalidNpy("shape dimension \(position) at offset \(token.offset) is not a non-negative integer")
        }
        guard text == "0" || !text.hasPrefix("0") else {
            throw LineupError.invalidNpy("shape dimension \(position) has a leading zero, which is not a valid Python integer")
        }
        var value = 0
        for byte in text.utf8 {
            let (shifted, shiftOverflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, sumOverflow) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !shiftOverflow && !sumOverflow else {
                throw LineupError.invalidNpy("shape dimension \(position) is too large")
            }
            value = sum
        }
        return value
    }
}

// MARK: - Tokenizer and parser

/// One lexical element of the header text.
struct HeaderToken {
    enum Kind: Equatable {
        /// A single punctuation character: `{ } ( ) [ ] : , -`.
        case symbol(UInt8)
        /// The contents of a quoted string, without the quotes.
        case string(String)
        /// A run starting with a digit or '.', e.g. `512`, `3.5`, `0x10`; interpreted later,
        /// so that a malformed number yields a specific error rather than "unexpected character".
        case number(String)
        /// An identifier such as `True`, `False` or `None`.
        case word(String)
    }

    var kind: Kind
    /// Byte offset within the header, for error messages.
    var offset: Int
}

/// Splits the header into tokens covering the subset of Python literal syntax NumPy uses.
enum HeaderTokenizer {
    static func tokenize(_ header: ArraySlice<UInt8>) throws(LineupError) -> [HeaderToken] {
        var tokens: [HeaderToken] = []
        var index = header.startIndex
        while index < header.endIndex {
            let byte = header[index]
            let offset = index - header.startIndex
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: ","),
                 UInt8(ascii: "-"):
                tokens.append(HeaderToken(kind: .symbol(byte), offset: offset))
                index += 1
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                var end = index + 1
                while true {
                    guard end < header.endIndex,
                          header[end] != UInt8(ascii: "\n"), header[end] != UInt8(ascii: "\r") else {
                        throw LineupError.invalidNpy("unterminated string starting at header offset \(offset)")
                    }
                    if header[end] == byte { break }
                    // NumPy never writes escapes in the keys or dtypes we accept, so there is
                    // no reason to implement Python's escape rules.
                    guard header[end] != UInt8(ascii: "\\") else {
                        throw LineupError.invalidNpy("escape sequences in header strings are not supported (offset \(end - header.startIndex))")
                    }
                    end += 1
                }
                let contents = String(decoding: header[(index + 1) ..< end], as: UTF8.self)
                tokens.append(HeaderToken(kind: .string(contents), offset: offset))
                index = end + 1
            case _ where isDigit(byte) || byte == UInt8(ascii: "."):
                let end = header[index...].firstIndex { !isWordCharacter($0) && $0 != UInt8(ascii: ".") }
                    ?? header.endIndex
                let text = String(decoding: header[index ..< end], as: UTF8.self)
                tokens.append(HeaderToken(kind: .number(text), offset: offset))
                index = end
            case _ where isWordCharacter(byte):
                let end = header[index...].firstIndex { !isWordCharacter($0) } ?? header.endIndex
                let text = String(decoding: header[index ..< end], as: UTF8.self)
                tokens.append(HeaderToken(kind: .word(text), offset: offset))
                index = end
            default:
                let shown = byte > 0x20 && byte < 0x7F
                    ? "'\(Character(Unicode.Scalar(byte)))'"
                    : "byte 0x\(String(byte, radix: 16))"
                throw LineupError.invalidNpy("unexpected character \(shown) at header offset \(offset)")
            }
        }
        return tokens
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isWordCharacter(_ byte: UInt8) -> Bool {
        isDigit(byte)
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }
}

/// A cursor over the token list with the few operations the recursive-descent parser needs.
struct HeaderParser {
    var tokens: [HeaderToken]
    var position = 0

    init(tokens: [HeaderToken]) {
        self.tokens = tokens
    }

    func peek() -> HeaderToken? {
        position < tokens.count ? tokens[position] : nil
    }

    mutating func next() -> HeaderToken? {
        guard let token = peek() else { return nil }
        position += 1
        return token
    }

    /// Consumes the next token if it is the given punctuation character.
    mutating func consumeSymbol(_ symbol: Unicode.Scalar) -> Bool {
        guard peek()?.kind == .symbol(UInt8(ascii: symbol)) else { return false }
        position += 1
        return true
    }

    mutating func expectSymbol(_ symbol: Unicode.Scalar, describing context: String) throws(LineupError) {
        guard consumeSymbol(symbol) else {
            throw unexpected(describing: "'\(symbol)' \(context)")
        }
    }

    mutating func expectString(describing context: String) throws(LineupError) -> String {
        guard case .string(let text)? = peek()?.kind else {
            throw unexpected(describing: "a quoted string as \(context)")
        }
        position += 1
        return text
    }

    /// An error for the current token (or the end of the header) not being what was expected.
    func unexpected(describing expectation: String) -> LineupError {
        guard let token = peek() else {
            return LineupError.invalidNpy("the header ends where \(expectation) was expected")
        }
        return LineupError.invalidNpy("expected \(expectation) at header offset \(token.offset)")
    }

    /// Shortens header text quoted in an error so that a hostile header cannot produce a
    /// megabyte-long message.
    static func abbreviate(_ text: String) -> String {
        let limit = 24
        return text.count <= limit ? text : String(text.prefix(limit)) + "..."
    }
}
