/// `npy`: a `.npy` file, as the input, through ``NumpyMatrix/init(npyBytes:)``. What decodes
/// must hold rows × columns values and give each row its columns.
enum NpyTarget {
    static let target = FuzzTarget(name: "npy", seeds: seeds, run: run)

    /// A version-1 `.npy` file with the given header dictionary and data.
    static func npy(_ dictionary: String, _ data: [UInt8], major: UInt8 = 1) -> [UInt8] {
        var header = Array(dictionary.utf8)
        let prefix = major == 1 ? 10 : 12
        while (prefix + header.count + 1) % 64 != 0 { header.append(UInt8(ascii: " ")) }
        header.append(UInt8(ascii: "\n"))
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
        if major == 1 {
            bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        } else {
            bytes += withUnsafeBytes(of: UInt32(header.count).littleEndian, Array.init)
        }
        return bytes + header + data
    }

    static func seeds() throws -> [String: [UInt8]] {
        let floats: [Float] = (0..<12).map { Float($0) / 7 - 0.5 }
        let doubles: [Double] = floats.map(Double.init)
        let f32 = floats.withUnsafeBytes { Array($0) }
        let f64 = doubles.withUnsafeBytes { Array($0) }
        return [
            "f4-3x4.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", f32),
            "f8-2x6.npy": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 6), }", f64),
            "f4-fortran.npy": npy("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }", f32),
            "f4-1d.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }", f32),
            "f4-v2.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 2), }", f32, major: 2),
            "f8-big-endian.npy": npy("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 6), }",
                                     doubles.prefix(6).flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian, Array.init) }),
            "empty.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", []),
        ]
    }

    static func run(_ input: [UInt8]) {
        guard let matrix = try? NumpyMatrix(npyBytes: input) else { return }
        fuzzCheck(matrix.rows >= 0 && matrix.columns >= 0 && (matrix.rows == 0 || matrix.columns > 0), "shape \(matrix.rows) × \(matrix.columns)")
        fuzzCheck(matrix.values.count == matrix.rows * matrix.columns, "\(matrix.values.count) values for \(matrix.rows) × \(matrix.columns)")
        for row in 0..<min(matrix.rows, 64) {
            fuzzCheck(matrix.row(row).count == matrix.columns, "row \(row) has the wrong length")
        }
    }
}
