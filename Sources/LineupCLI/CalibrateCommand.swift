import ArgumentParser
import Foundation
import Lineup

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit and store a collection's match-probability curve from its own pairs; print FAR and FRR.",
        discussion: """
            Two Faceprints of one identity are a genuine pair, of two identities an impostor pair. \
            Every genuine pair and up to a million impostor pairs are scored; the logistic curve \
            fitted to them is stored with the collection and gives every later candidate its \
            match probability. Prints the pair counts, the curve and FAR/FRR every 0.05 (or, with \
            --json, one JSON object with every point); --target-far F adds the lowest threshold \
            whose FAR is at most F; --plot FILE.svg draws the DET curve.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option(name: .customLong("target-far"), help: "A false-accept rate in (0, 1]: print the lowest threshold that keeps FAR at or below it.")
    var targetFAR: Double?
    @Flag(help: "One JSON object: pairs, curve, target and every threshold's FAR and FRR.") var json = false
    @Option(help: "Write the DET curve (FRR against FAR, log axes, the target's threshold marked) to this SVG file.")
    var plot: String?

    func validate() throws {
        if let targetFAR, !(targetFAR > 0 && targetFAR <= 1) {
            throw ValidationError("--target-far must be a rate above 0 and at most 1")
        }
    }

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect()
            try sdk.loadCollection(collection)
            let report = try sdk.calibrate(collectionName: collection)
            let threshold = targetFAR.flatMap { report.threshold(forFalseAcceptRate: $0) }
            let marked = threshold.flatMap { threshold in report.points.first { $0.threshold == threshold } }
            if let plot {
                let file = try OutputFile(plot)
                try file.write(DETPlot(report: report, marked: marked).svg)
                try file.commit()
            }
            if json {
                var members: [(key: String, value: JSONOutput)] = [
                    ("collection", .string(collection)),
                    ("genuine_pairs", .integer(report.genuinePairs)),
                    ("impostor_pairs", .integer(report.impostorPairs)),
                    ("curve", .members(["midpoint": .float(report.curve.midpoint), "steepness": .float(report.curve.steepness)])),
                ]
                if let targetFAR {
                    members.append(("target_far", .double(targetFAR)))
                    members.append(("threshold", threshold.map { .float($0) } ?? .string("none")))
                }
                members.append(("points", .array(report.points.map {
                    .members(["threshold": .float($0.threshold), "far": .double($0.falseAcceptRate), "frr": .double($0.falseRejectRate)])
                })))
                try emit(JSONOutput.object(members).text)
                return
            }
            try emit("\(report.genuinePairs) genuine pairs, \(report.impostorPairs) impostor pairs")
            try emit("curve: midpoint \(report.curve.midpoint), steepness \(report.curve.steepness) (stored with the collection)")
            try emit("threshold  FAR         FRR")
            for point in report.points where Self.isRowOfTable(point.threshold) {
                try emit(Self.row(point))
            }
            if let targetFAR {
                if let marked {
                    try emit("FAR <= \(targetFAR): threshold \(marked.threshold) (\(Self.row(marked).dropFirst(11)))")
                } else {
                    try emit("FAR <= \(targetFAR): no threshold reaches it (impostor pairs as similar as 1)")
                }
            }
        }
    }

    /// The table's thresholds: 0 to 1 every 0.05.
    static func isRowOfTable(_ threshold: Float) -> Bool {
        let hundredths = (threshold * 100).rounded()
        return threshold >= -1e-4 && abs(threshold * 100 - hundredths) < 1e-2 && Int(hundredths) % 5 == 0
    }

    static func row(_ point: RatePoint) -> String {
        func padded(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        return padded(String(format: "%.3f", point.threshold), 11) + padded(String(format: "%.3e", point.falseAcceptRate), 12)
            + String(format: "%.3e", point.falseRejectRate)
    }
}

/// A detection-error-tradeoff plot as a self-contained SVG: FRR against FAR on log axes from
/// the smallest rate the pairs can show to 1, one decade a grid line, the marked threshold as
/// a dot with its value.
struct DETPlot {
    let report: CalibrationReport
    let marked: RatePoint?

    static let width = 640.0, height = 480.0, margin = 64.0

    var svg: String {
        let far = report.points.map(\.falseAcceptRate), frr = report.points.map(\.falseRejectRate)
        // The axes reach down to one pair in each class (the smallest rate the pairs show).
        let farFloor = Self.decadeBelow(1 / Double(max(1, report.impostorPairs)))
        let frrFloor = Self.decadeBelow(1 / Double(max(1, report.genuinePairs)))
        func x(_ rate: Double) -> Double {
            let fraction = (log10(max(rate, farFloor)) - log10(farFloor)) / -log10(farFloor)
            return Self.margin + fraction * (Self.width - 2 * Self.margin)
        }
        func y(_ rate: Double) -> Double {
            let fraction = (log10(max(rate, frrFloor)) - log10(frrFloor)) / -log10(frrFloor)
            return Self.height - Self.margin - fraction * (Self.height - 2 * Self.margin)
        }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" \
            viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Self.width / 2)" y="24" text-anchor="middle" font-size="14">DET curve: \
            \(report.genuinePairs) genuine, \(report.impostorPairs) impostor pairs</text>

            """
        // Grid and decade labels.
        var decade = farFloor
        while decade <= 1.000001 {
            out += "<line x1=\"\(x(decade))\" y1=\"\(y(frrFloor))\" x2=\"\(x(decade))\" y2=\"\(y(1))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(x(decade))\" y=\"\(Self.height - Self.margin + 16)\" text-anchor=\"middle\">\(Self.label(decade))</text>\n"
            decade *= 10
        }
        decade = frrFloor
        while decade <= 1.000001 {
            out += "<line x1=\"\(x(farFloor))\" y1=\"\(y(decade))\" x2=\"\(x(1))\" y2=\"\(y(decade))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(Self.margin - 6)\" y=\"\(y(decade) + 4)\" text-anchor=\"end\">\(Self.label(decade))</text>\n"
            decade *= 10
        }
        out += """
            <rect x="\(Self.margin)" y="\(Self.margin)" width="\(Self.width - 2 * Self.margin)" \
            height="\(Self.height - 2 * Self.margin)" fill="none" stroke="black"/>
            <text x="\(Self.width / 2)" y="\(Self.height - 20)" text-anchor="middle">false accept rate (FAR)</text>
            <text x="18" y="\(Self.height / 2)" text-anchor="middle" transform="rotate(-90 18 \(Self.height / 2))">false reject rate (FRR)</text>

            """
        // The curve: every threshold's point, in order of threshold (FAR falls, FRR rises).
        let coordinates = zip(far, frr).map { String(format: "%.2f,%.2f", x($0), y($1)) }
        out += "<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
        if let marked {
            let (px, py) = (x(marked.falseAcceptRate), y(marked.falseRejectRate))
            out += "<circle cx=\"\(px)\" cy=\"\(py)\" r=\"5\" fill=\"#d62728\"/>"
            out += "<text x=\"\(px + 8)\" y=\"\(py - 8)\" fill=\"#d62728\">threshold \(marked.threshold): FAR \(String(format: "%.1e", marked.falseAcceptRate)), FRR \(String(format: "%.1e", marked.falseRejectRate))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    /// The power of ten at or below `rate` (rates above 0).
    static func decadeBelow(_ rate: Double) -> Double { pow(10, floor(log10(rate))) }

    static func label(_ rate: Double) -> String {
        let exponent = Int(log10(rate).rounded())
        return exponent == 0 ? "1" : "1e\(exponent)"
    }
}
