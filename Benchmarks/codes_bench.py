#!/usr/bin/env python3
"""Exact answers from the compact codes: Lineup's coded single-probe search beside its full
scan of the stored vectors and FAISS IndexFlatIP, side by side in one run, on face-like data.

  python3 Benchmarks/codes_bench.py [--rows 1000000] [--dimension 512] [--repeat 10]
                                    [--queries 1:0.4,5:0.6,10:-1,1:0.2,1:0.6,1:0.8]
                                    [--batch 256] [--batch-repeat 3] [--batch-queries 1:0.4,10:-1]
                                    [--plot]

The gallery is harness.face_like (four templates a person around anisotropic centres),
imported into a float32 store: the import seals segments, which carry every row's int8 code
and bound (FORMAT.md §6.3). Probes are new templates of enrolled people (their centre plus
fresh noise), so each has genuine matches and a crowd of impostors. For each query (k and
threshold) `lineup-bench coded` times identifyTopCandidates through the codes and through the
full scan, each probe both ways in turn, checks that the two answers are equal, and counts
the rows the coded search scored exactly. FAISS: IndexFlatIP.search of the same probes, k
results (FAISS has no threshold; it is as fast at any). Also the store's bytes: the codes
against the vectors. Prints ratios and writes Benchmarks/results/codes.json and, with --plot,
Benchmarks/results/codes.png (time per probe against threshold, top-1).
"""
import argparse, os, shutil, statistics, sys, tempfile, time

import numpy as np

from harness import BENCH, run_bench, save_results, write_face_like_inputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--queries", default="1:0.4,5:0.6,10:-1,1:0.2,1:0.6,1:0.8")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--batch-repeat", type=int, default=3)
    parser.add_argument("--batch-queries", default="1:0.4,10:-1")
    parser.add_argument("--plot", action="store_true",
                        help="also plot time per probe against threshold, for the top-1 queries, into results/codes.png")
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"error: {BENCH} is missing; run `make bench`")
    import faiss
    work = tempfile.mkdtemp(prefix="lineup-codes-")
    try:
        vectors, identities, npy, names = write_face_like_inputs(work, args.rows, args.dimension)
        store = os.path.join(work, "store")
        run_bench("import", store, "gallery", npy, names)
        rng = np.random.default_rng(21)
        spectrum = (1.0 / np.sqrt(1.0 + np.arange(args.dimension))).astype(np.float32)

        def new_templates(count):
            # Another template of the same people: a stored one moved by noise of the templates' size.
            chosen = rng.choice(args.rows, size=count, replace=False)
            probes = vectors[chosen] + 0.5 * rng.standard_normal((count, args.dimension), dtype=np.float32) * spectrum
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)
            return probes.astype(np.float32)

        probes = new_templates(args.repeat)
        probe_path = os.path.join(work, "probes.npy")
        np.save(probe_path, probes)
        lineup = run_bench("coded", store, "gallery", probe_path, "--repeat", args.repeat, "--queries", args.queries)

        index = faiss.IndexFlatIP(args.dimension)
        index.add(vectors)
        results = {"rows": args.rows, "dimension": args.dimension, "probes": args.repeat, "queries": []}
        for query in lineup["queries"]:
            k = query["k"]
            index.search(probes[:1], k)
            times = []
            for probe in probes:
                start = time.perf_counter()
                index.search(probe.reshape(1, -1), k)
                times.append(time.perf_counter() - start)
            entry = dict(query)
            entry["faiss_flat_seconds"] = statistics.median(times)
            entry["coded_over_faiss"] = entry["coded_median_seconds"] / entry["faiss_flat_seconds"]
            entry["full_over_faiss"] = entry["full_median_seconds"] / entry["faiss_flat_seconds"]
            entry["coded_over_full"] = entry["coded_median_seconds"] / entry["full_median_seconds"]
            results["queries"].append(entry)
            print(f"top-{k:<3} threshold {query['threshold']:5.2f}: coded {entry['coded_median_seconds'] * 1000:7.2f} ms"
                  f"  full {entry['full_median_seconds'] * 1000:7.2f} ms  FAISS flat {entry['faiss_flat_seconds'] * 1000:7.2f} ms"
                  f"  coded/FAISS {entry['coded_over_faiss']:.3f}  coded/full {entry['coded_over_full']:.3f}"
                  f"  rescored {entry['rescored_fraction'] * 100:.4f} %")
        results["batches"] = []
        if args.batch > 1:
            batch_probes = new_templates(args.batch * args.batch_repeat)
            batch_path = os.path.join(work, "batch-probes.npy")
            np.save(batch_path, batch_probes)
            batched = run_bench("coded", store, "gallery", batch_path, "--repeat", args.batch_repeat,
                                "--queries", args.batch_queries, "--batch", args.batch)
            for query in batched["queries"]:
                k = query["k"]
                index.search(batch_probes[:args.batch], k)
                times = []
                for run in range(args.batch_repeat):
                    start = time.perf_counter()
                    index.search(batch_probes[run * args.batch:(run + 1) * args.batch], k)
                    times.append((time.perf_counter() - start) / args.batch)
                entry = dict(query)
                entry["batch"] = args.batch
                entry["faiss_flat_seconds"] = statistics.median(times)
                entry["coded_over_full"] = entry["coded_median_seconds"] / entry["full_median_seconds"]
                entry["coded_over_faiss"] = entry["coded_median_seconds"] / entry["faiss_flat_seconds"]
                results["batches"].append(entry)
                print(f"batch of {args.batch}, top-{k:<3} threshold {query['threshold']:5.2f}, a probe: coded "
                      f"{entry['coded_median_seconds'] * 1000:7.3f} ms  full {entry['full_median_seconds'] * 1000:7.3f} ms"
                      f"  FAISS flat {entry['faiss_flat_seconds'] * 1000:7.3f} ms  coded/full {entry['coded_over_full']:.3f}"
                      f"  coded/FAISS {entry['coded_over_faiss']:.3f}  rescored {entry['rescored_fraction'] * 100:.4f} %")
        sizes = {name: os.path.getsize(os.path.join(store, name)) for name in os.listdir(store)}
        segment_bytes = sum(size for name, size in sizes.items() if name.endswith(".seg"))
        vector_bytes = args.rows * args.dimension * 4
        code_bytes = args.rows * (((args.dimension + 63) // 64) * 64 + 8)
        results["segment_bytes"] = segment_bytes
        results["code_bytes_over_vector_bytes"] = code_bytes / vector_bytes
        print(f"codes: {code_bytes} bytes = {code_bytes / vector_bytes * 100:.1f} % of the float32 vectors; "
              f"segments {segment_bytes} bytes")
        save_results("codes", results)
        if args.plot:
            plot(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plot(results):
    """Time per probe against threshold for the top-1 queries: coded, full scan, FAISS flat."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    entries = sorted((q for q in results["queries"] if q["k"] == 1), key=lambda q: q["threshold"])
    if len(entries) < 2:
        print("no plot: give --queries at least two top-1 thresholds (1:T,...)")
        return
    thresholds = [q["threshold"] for q in entries]
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for key, label, style in (("coded_median_seconds", "Lineup, through the codes", "o-"),
                              ("full_median_seconds", "Lineup, full scan", "s-"),
                              ("faiss_flat_seconds", "FAISS IndexFlatIP", "x--")):
        axis.plot(thresholds, [q[key] * 1000 for q in entries], style, label=label)
    axis.set_ylim(bottom=0)
    axis.set_xlabel("threshold")
    axis.set_ylabel("time per probe (ms)")
    axis.set_title(f"Top-1, exact, {results['rows']:,} x {results['dimension']} face-like float32")
    axis.legend(fontsize=8)
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "codes.png")
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
