import ArgumentParser
import Foundation
import Lineup
import Synchronization

/// `lineup-bench import`: bulk enrollment of a .npy array, a segment file a call.
struct ImportOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Time a bulk enrollment.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of vectors.") var vectors: String
    @Argument(help: "A text file of identities, one a line.") var identities: String
    @Option(help: "Vector compression: none, fp16 or int8.") var compression = "none"
    @OptionGroup var sharedFlag: SharedFlag

    func validate() throws {
        guard VectorCompression(rawValue: compression) != nil else {
            throw ValidationError("--compression must be none, fp16 or int8")
        }
    }

    func run() throws {
        let collection = storeArguments.collection
        let matrix = try readMatrix(vectors)
        let identities = String(decoding: FileManager.default.contents(atPath: identities) ?? Data(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        guard identities.count == matrix.rows else { fail("identities and vectors differ in count") }
        let faceprints = (0..<matrix.rows).map { Faceprint(featureVector: Array(matrix.row($0))) }
        let sdk = try connect(storeArguments.store, shared: sharedFlag.shared, compression: VectorCompression(rawValue: compression)!)
        try sdk.createLoadCollection(collection)
        let start = ContinuousClock.now
        let batch = 262_144   // one segment file a call (Store.importSegmentRows)
        var done = 0
        while done < faceprints.count {
            let end = min(done + batch, faceprints.count)
            _ = try sdk.enrollFaceprints(Array(faceprints[done..<end]), identities: Array(identities[done..<end]),
                                         collectionName: collection)
            done = end
        }
        try sdk.checkpoint()
        let elapsed = seconds(since: start)
        report(["operation": "import", "rows": done, "seconds": elapsed, "rows_per_second": Double(done) / elapsed])
    }
}

/// `lineup-bench enroll`: durable single enrollments from several threads.
struct EnrollOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Time durable single enrollments.")
    @OptionGroup var storeArguments: StoreArguments
    @Option(help: "Enrolling threads.") var threads = 1
    @Option(help: "Enrollments in all.") var count = 1000
    @Option(help: "Dimension of the random vectors.") var dimension = 512
    @OptionGroup var sharedFlag: SharedFlag

    func run() throws {
        let (collection, threads, count, dimension) = (storeArguments.collection, threads, count, dimension)
        let sdk = try connect(storeArguments.store, shared: sharedFlag.shared)
        try sdk.createLoadCollection(collection)
        // Seeded and cheap: the system's generator costs a system call a number, which would
        // compete for the cores with another process's timed enrollments.
        var generator = SeededGenerator(seed: UInt64(getpid()))
        let faceprints = (0..<count).map { _ in
            Faceprint(featureVector: (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) })
        }
        // Real threads, as many as asked: concurrentPerform would cap them at the core count,
        // and enrollers spend most of their time waiting for the disk, not computing.
        let finished = DispatchGroup()
        let start = ContinuousClock.now
        for thread in 0..<threads {
            finished.enter()
            Thread {
                var index = thread
                while index < count {
                    do {
                        _ = try sdk.enrollFaceprint(faceprints[index], identity: "person-\(index)", collectionName: collection)
                    } catch {
                        fail("\(error)")
                    }
                    index += threads
                }
                finished.leave()
            }.start()
        }
        finished.wait()
        let elapsed = seconds(since: start)
        report(["operation": "enroll", "threads": threads, "count": count, "seconds": elapsed,
                "enrollments_per_second": Double(count) / elapsed])
    }
}

/// `lineup-bench open-probe`: opening a store and its first answer, cold and warm.
struct OpenProbeOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open-probe", abstract: "Time opening a store and its first probes.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of probes (the first is used).") var probes: String
    @OptionGroup var sharedFlag: SharedFlag

    func run() throws {
        let collection = storeArguments.collection
        let probes = try readMatrix(probes)
        let faceprint = Faceprint(featureVector: Array(probes.row(0)))
        let start = ContinuousClock.now
        let sdk = try connect(storeArguments.store, shared: sharedFlag.shared)
        try sdk.loadCollection(collection)
        let opened = seconds(since: start)
        _ = try sdk.identifyTopCandidate(faceprint, collectionName: collection)
        let firstAnswer = seconds(since: start)
        let secondStart = ContinuousClock.now
        _ = try sdk.identifyTopCandidate(faceprint, collectionName: collection)
        let scan = seconds(since: secondStart)
        let faceprints = try sdk.getCollectionMetadata(collection).numFaceprints
        report(["operation": "open-probe", "faceprints": faceprints, "open_seconds": opened,
                "open_and_first_probe_seconds": firstAnswer, "warm_probe_seconds": scan])
    }
}

/// `lineup-bench probe`: single-probe latency (median of --repeat runs, each a different
/// probe) and, with --batch B, the time per probe of one batch of B probes.
struct ProbeOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Time single and batched identification.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of probes.") var probes: String
    @Option(name: .customLong("repeat"), help: "Single probes timed.") var repeatCount = 10
    @Option(name: .customLong("batch"), help: "Probes in the timed batch (0: none).") var batchSize = 0
    @Flag(help: "Also time identifyTopIdentities (top-10 people), each probe right after identifyTopCandidates, and with --batch batchIdentifyTopIdentities.")
    var distinct = false
    @OptionGroup var sharedFlag: SharedFlag

    func run() throws {
        let collection = storeArguments.collection
        let probes = try readMatrix(probes)
        let faceprints = (0..<probes.rows).map { Faceprint(featureVector: Array(probes.row($0))) }
        let residentBeforeOpen = residentBytes()
        let sdk = try connect(storeArguments.store, shared: sharedFlag.shared)
        try sdk.loadCollection(collection)
        _ = try sdk.identifyTopCandidate(faceprints[0], collectionName: collection)   // warm the page cache
        var times: [Double] = []
        var distinctTimes: [Double] = []
        for index in 0..<repeatCount {
            let probe = faceprints[index % faceprints.count]
            let start = ContinuousClock.now
            _ = try sdk.identifyTopCandidates(probe, numCandidates: 10, threshold: -1, collectionName: collection)
            times.append(seconds(since: start))
            if distinct {
                let start = ContinuousClock.now
                _ = try sdk.identifyTopIdentities(probe, numCandidates: 10, threshold: -1, collectionName: collection)
                distinctTimes.append(seconds(since: start))
            }
        }
        times.sort()
        distinctTimes.sort()
        var values: [String: Any] = ["operation": "probe", "single_median_seconds": times[times.count / 2],
                                     "single_best_seconds": times[0],
                                     "faceprints": try sdk.getCollectionMetadata(collection).numFaceprints]
        if distinct {
            values["distinct_median_seconds"] = distinctTimes[distinctTimes.count / 2]
            values["distinct_best_seconds"] = distinctTimes[0]
        }
        // Resident memory after a scan: the mapped segments' pages plus the heap (VmRSS), and
        // what the process held before opening the store (runtime, probes), so that the
        // collection's own share can be told from the process's.
        if let after = residentBytes(), let before = residentBeforeOpen {
            values["resident_bytes_after_scan"] = after
            values["resident_bytes_before_open"] = before
        }
        if batchSize > 0 {
            let batch = (0..<batchSize).map { faceprints[$0 % faceprints.count] }
            var best = Double.infinity
            for _ in 0..<2 {
                let start = ContinuousClock.now
                _ = try sdk.batchIdentifyTopCandidates(batch, numCandidates: 10, threshold: -1, collectionName: collection)
                best = min(best, seconds(since: start))
            }
            values["batch"] = batchSize
            values["batch_seconds_per_probe"] = best / Double(batchSize)
            if distinct {
                var best = Double.infinity
                for _ in 0..<2 {
                    let start = ContinuousClock.now
                    _ = try sdk.batchIdentifyTopIdentities(batch, numCandidates: 10, threshold: -1, collectionName: collection)
                    best = min(best, seconds(since: start))
                }
                values["distinct_batch_seconds_per_probe"] = best / Double(batchSize)
            }
        }
        report(values)
    }
}

/// `lineup-bench compact`: removes every K-th Faceprint (default 2: half), then times an
/// explicit compaction while this thread keeps probing, against probes with no compaction
/// running.
struct CompactOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Time a compaction, and probes during it.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of probes.") var probes: String
    @Option(name: .customLong("remove-every"), help: "Remove every K-th Faceprint first.") var every = 2

    func run() throws {
        let (store, collection) = (storeArguments.store, storeArguments.collection)
        let probes = try readMatrix(probes)
        let faceprints = (0..<probes.rows).map { Faceprint(featureVector: Array(probes.row($0))) }
        func storeBytes() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
            return names.reduce(0) { total, name in
                total + (((try? FileManager.default.attributesOfItem(atPath: store + "/" + name))?[.size] as? Int) ?? 0)
            }
        }
        // Removals are not what is measured: journal them without an fsync each.
        var options = ConfigurationOptions()
        options.dbms = .file
        options.durability = .processCrash
        options.automaticCompaction = false   // the explicit compaction below is what is timed
        options.encryptionKey = ProcessInfo.processInfo.environment["LINEUP_PASSPHRASE"]
        let sdk = SDK(options: options)
        try sdk.createDatabaseConnection(store)
        try sdk.loadCollection(collection)
        let uuids = try sdk.getCollectionIdentities(collection).keys.sorted()
        let removeStart = ContinuousClock.now
        for (index, uuid) in uuids.enumerated() where index % every == 0 {
            try sdk.removeByUUID(uuid, collectionName: collection)
        }
        let removeSeconds = seconds(since: removeStart)
        try sdk.checkpoint()
        let sizeBefore = storeBytes()
        let spaceBefore = try sdk.getCollectionSpace(collection)
        func probeOnce(_ index: Int) throws -> Double {
            let start = ContinuousClock.now
            _ = try sdk.identifyTopCandidates(faceprints[index % faceprints.count], numCandidates: 10, threshold: -1,
                                              collectionName: collection)
            return seconds(since: start)
        }
        _ = try probeOnce(0)
        var idle: [Double] = []
        for index in 0..<15 { idle.append(try probeOnce(index)) }
        idle.sort()
        nonisolated(unsafe) var compaction = CompactionReport()
        nonisolated(unsafe) var compactError: Error?
        let finished = Atomic<Bool>(false)
        let compactStart = ContinuousClock.now
        let thread = Thread {
            do { compaction = try sdk.compact(collectionName: collection) } catch { compactError = error }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
        var during: [Double] = []
        var index = 0
        while !finished.load(ordering: .acquiring) {
            during.append(try probeOnce(index))
            index += 1
        }
        let compactSeconds = seconds(since: compactStart)
        if let compactError { throw compactError }
        during.sort()
        let spaceAfter = try sdk.getCollectionSpace(collection)
        var values: [String: Any] = ["operation": "compact", "removed": (uuids.count + every - 1) / every]
        values["remove_seconds"] = removeSeconds
        values["compact_seconds"] = compactSeconds
        values["bytes_rewritten"] = compaction.bytesAfter
        values["bytes_replaced"] = compaction.bytesBefore
        values["faceprints_copied"] = compaction.faceprintsCopied
        values["faceprints_erased"] = compaction.faceprintsErased
        values["live_megabytes_per_second"] = Double(compaction.bytesAfter) / 1e6 / compactSeconds
        values["store_bytes_before"] = sizeBefore
        values["store_bytes_after"] = storeBytes()
        values["dead_bytes_before"] = spaceBefore.deadBytes
        values["dead_bytes_after"] = spaceAfter.deadBytes
        values["idle_probe_median_seconds"] = idle[idle.count / 2]
        values["probes_during_compaction"] = during.count
        values["during_probe_median_seconds"] = during.isEmpty ? 0 : during[during.count / 2]
        values["during_probe_worst_seconds"] = during.last ?? 0
        report(values)
    }
}

struct CalibrateOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calibrate", abstract: "Time a calibration of the collection.")
    @OptionGroup var storeArguments: StoreArguments

    func run() throws {
        let sdk = try connect(storeArguments.store, shared: false)
        try sdk.loadCollection(storeArguments.collection)
        let start = ContinuousClock.now
        let calibration = try sdk.calibrate(collectionName: storeArguments.collection)
        let elapsed = seconds(since: start)
        report(["operation": "calibrate", "seconds": elapsed, "genuine_pairs": calibration.genuinePairs,
                "impostor_pairs": calibration.impostorPairs, "midpoint": Double(calibration.curve.midpoint),
                "steepness": Double(calibration.curve.steepness),
                "threshold_far_1e-3": calibration.threshold(forFalseAcceptRate: 1e-3).map(Double.init) ?? -2])
    }
}

