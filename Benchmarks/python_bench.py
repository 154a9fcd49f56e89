#!/usr/bin/env python3
"""The Python binding beside the Swift SDK and FAISS's Python API, in one run, on one face-like
float32 store (default 100k × 512, top-1 at threshold 0.4):

  python3 Benchmarks/python_bench.py [--rows 100000] [--dimension 512] [--repeat 1000] [--batch 256] [--enroll-repeat 3]

- the call alone: the same over a collection of 64 rows, where the search costs next to
  nothing;
- single identify: the median over --repeat probes of `SDK.identify_top_candidate` from Python
  (through cffi and liblineup.so) against the same call in Swift (`lineup-bench load
  --clients 1`, its p50), and the difference in microseconds: the binding's overhead;
- batch identify: `SDK.identify` of a (batch, D) numpy array against `batchIdentifyTopCandidates`
  in Swift (`lineup-bench load --batch`), median of 5;
- bulk enroll: `SDK.enroll_faceprints` of the whole (rows, D) array into a new store, against
  `lineup-bench import` of the same vectors (the SDK's `enrollFaceprints`, its Faceprints built
  before the clock starts), the median of --enroll-repeat runs, Swift and Python in turn, each
  into a fresh store removed after it;
- FAISS: IndexFlatIP.search of the same probes, one at a time and as a batch.

Needs the release library (make lib CONFIG=release), lineup-bench, numpy, cffi and faiss-cpu.
Writes Benchmarks/results/python.json.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

import numpy as np

from harness import BENCH, ROOT, face_like, run_bench, save_results

LIBRARY = os.path.join(ROOT, ".build", "release", "liblineup.so")


def python_side(store, tiny, probes_path, repeat, batch):
    """Times the binding in this process (the store is opened here, after the Swift runs)."""
    os.environ["LINEUP_LIBRARY"] = LIBRARY
    sys.path.insert(0, os.path.join(ROOT, "Bindings", "Python"))
    import lineup
    probes = np.load(probes_path)
    sdk = lineup.SDK(lineup.ConfigurationOptions())
    assert sdk.create_database_connection(store) == lineup.ERRORCODE.NO_ERROR
    assert sdk.load_collection("staff") == lineup.ERRORCODE.NO_ERROR
    faceprints = [lineup.Faceprint(p) for p in probes]
    sdk.identify_top_candidate(faceprints[0])
    times = []
    for index in range(repeat):
        start = time.perf_counter()
        status, found, candidate = sdk.identify_top_candidate(faceprints[index % len(faceprints)], threshold=0.4)
        times.append(time.perf_counter() - start)
        assert status == lineup.ERRORCODE.NO_ERROR
    # The call alone: the same probes over a collection of 64 rows.
    assert sdk.create_database_connection(tiny) == lineup.ERRORCODE.NO_ERROR
    assert sdk.load_collection("staff") == lineup.ERRORCODE.NO_ERROR
    tiny_times = []
    for index in range(max(repeat, 5000)):
        start = time.perf_counter()
        sdk.identify_top_candidate(faceprints[index % len(faceprints)], threshold=0.4)
        tiny_times.append(time.perf_counter() - start)
    assert sdk.create_database_connection(store) == lineup.ERRORCODE.NO_ERROR
    assert sdk.load_collection("staff") == lineup.ERRORCODE.NO_ERROR
    batch_probes = np.ascontiguousarray(probes[:batch])
    batch_times = []
    for _ in range(5):
        start = time.perf_counter()
        status, results = sdk.identify(batch_probes, top=1, threshold=0.4)
        batch_times.append(time.perf_counter() - start)
    assert sdk.create_database_connection(tiny) == lineup.ERRORCODE.NO_ERROR   # let the store go
    return {"single_median_seconds": statistics.median(times), "tiny_median_seconds": statistics.median(tiny_times),
            "batch_median_seconds": statistics.median(batch_times)}


def python_enroll(path, vectors, identities):
    """Seconds for SDK.enroll_faceprints of `vectors` into a new store at `path`."""
    import lineup
    sdk = lineup.SDK(lineup.ConfigurationOptions())
    assert sdk.create_database_connection(path) == lineup.ERRORCODE.NO_ERROR
    assert sdk.create_load_collection("staff") == lineup.ERRORCODE.NO_ERROR
    start = time.perf_counter()
    status, uuids = sdk.enroll_faceprints(vectors, identities)
    elapsed = time.perf_counter() - start
    assert status == lineup.ERRORCODE.NO_ERROR and len(uuids) == len(vectors)
    options = lineup.ConfigurationOptions()
    options.dbms = lineup.DATABASEMANAGEMENTSYSTEM.NONE
    sdk = lineup.SDK(options)
    assert sdk.create_database_connection("") == lineup.ERRORCODE.NO_ERROR   # let the store go
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--enroll-repeat", type=int, default=3)
    args = parser.parse_args()
    for program in (BENCH, LIBRARY):
        if not os.path.exists(program):
            sys.exit(f"error: {program} is missing; run `swift build -c release --product lineup-bench` and `make lib CONFIG=release`")
    import faiss
    work = tempfile.mkdtemp(prefix="lineup-python-bench-")
    try:
        vectors, identities = face_like(args.rows + args.batch, args.dimension)
        gallery, probes = vectors[:args.rows], vectors[args.rows:]
        paths = {name: os.path.join(work, name) for name in ("vectors.npy", "identities.txt", "probes.npy")}
        np.save(paths["vectors.npy"], gallery)
        np.save(paths["probes.npy"], probes)
        with open(paths["identities.txt"], "w") as f:
            f.write("\n".join(identities[:args.rows]) + "\n")
        store = os.path.join(work, "store")
        run_bench("import", store, "staff", paths["vectors.npy"], paths["identities.txt"])
        swift = run_bench("load", store, "staff", paths["probes.npy"], "--clients", 1, "--seconds", 5, "--batch", args.batch)
        tiny = os.path.join(work, "tiny")
        np.save(os.path.join(work, "tiny.npy"), gallery[:64])
        with open(os.path.join(work, "tiny.txt"), "w") as f:
            f.write("\n".join(identities[:64]) + "\n")
        run_bench("import", tiny, "staff", os.path.join(work, "tiny.npy"), os.path.join(work, "tiny.txt"))
        swift_tiny = run_bench("load", tiny, "staff", paths["probes.npy"], "--clients", 1, "--seconds", 3)
        python = python_side(store, tiny, paths["probes.npy"], args.repeat, args.batch)
        # Bulk enrollment, Swift and Python in turn, each into a fresh store removed after it.
        swift_enrolls, python_enrolls = [], []
        for attempt in range(args.enroll_repeat):
            target = os.path.join(work, f"enroll-{attempt}")
            swift_enrolls.append(run_bench("import", target + "-swift", "staff", paths["vectors.npy"],
                                           paths["identities.txt"])["seconds"])
            shutil.rmtree(target + "-swift")
            python_enrolls.append(python_enroll(target + "-python", gallery, identities[:args.rows]))
            shutil.rmtree(target + "-python")
        swift_import = {"seconds": statistics.median(swift_enrolls), "runs": swift_enrolls}
        python["enroll_seconds"] = statistics.median(python_enrolls)
        python["enroll_runs"] = python_enrolls
        index = faiss.IndexFlatIP(args.dimension)
        index.add(gallery)
        single = []
        for i in range(min(args.repeat, 100)):
            start = time.perf_counter()
            index.search(probes[i % len(probes):i % len(probes) + 1], 1)
            single.append(time.perf_counter() - start)
        start = time.perf_counter()
        index.search(probes[:args.batch], 1)
        faiss_batch = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {"rows": args.rows, "dimension": args.dimension, "swift": swift, "swift_tiny": swift_tiny, "swift_import": swift_import, "python": python,
               "faiss": {"single_median_seconds": statistics.median(single), "batch_seconds": faiss_batch}}
    overhead = (python["single_median_seconds"] - swift["p50_seconds"]) * 1e6
    print(f"{args.rows:,} x {args.dimension} face-like, float32, top-1 at 0.4")
    print(f"single identify: Python {python['single_median_seconds'] * 1e3:.3f} ms, Swift {swift['p50_seconds'] * 1e3:.3f} ms "
          f"(binding overhead {overhead:.0f} us), FAISS {results['faiss']['single_median_seconds'] * 1e3:.3f} ms")
    print(f"one call over 64 rows: Python {python['tiny_median_seconds'] * 1e6:.1f} us, Swift {swift_tiny['p50_seconds'] * 1e6:.1f} us "
          f"(binding overhead {(python['tiny_median_seconds'] - swift_tiny['p50_seconds']) * 1e6:.1f} us)")
    print(f"batch of {args.batch}: Python {python['batch_median_seconds'] * 1e3:.1f} ms, Swift {swift['batch_median_seconds'] * 1e3:.1f} ms "
          f"({python['batch_median_seconds'] / swift['batch_median_seconds']:.2f}x), FAISS {faiss_batch * 1e3:.1f} ms")
    swift_enroll = swift_import.get("seconds")
    print(f"bulk enroll of {args.rows:,}: Python enroll_faceprints {python['enroll_seconds']:.2f} s, Swift import "
          f"{swift_enroll:.2f} s ({python['enroll_seconds'] / swift_enroll:.2f}x)" if swift_enroll else "")
    save_results("python", results)


if __name__ == "__main__":
    main()
