#!/usr/bin/env python3
"""Lineup's matcher against FAISS and numpy, side by side in one run, on the same vectors.

  python3 Benchmarks/matcher_bench.py [--sizes 100000x512,1000000x512,1000000x128] [--plot]

For each size: the vectors are imported into a Lineup store once per compression (none,
fp16, int8) and scanned in place from the mapped segments; FAISS (IndexFlatIP, scalar
quantizer fp16 and 8-bit, inner product) and numpy (matrix @ vector, and matrix @ matrix for
a batch of 256) run on the same data; a read-bandwidth probe gives the floor. Single-probe
times are medians over 10 probes (top-10, no threshold, every core). Prints ratios, writes
Benchmarks/results/matcher.json and, with --plot, Benchmarks/results/matcher.png.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

import numpy as np

from harness import BENCH, HERE, run_bench, save_results



def median_time(function, probes, repeat=10):
    times = []
    for index in range(repeat):
        start = time.perf_counter()
        function(probes[index % len(probes)])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000x512,1000000x512,1000000x128")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--plot", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"error: {BENCH} is missing; run `make bench`")
    try:
        import faiss
    except ImportError:
        faiss = None
        print("note: faiss is not installed (pip install faiss-cpu); FAISS columns are skipped", file=sys.stderr)

    bandwidth = run_bench("bandwidth", "--megabytes", 2048, "--threads", os.cpu_count())["bytes_per_second"]
    results = {"read_bandwidth_bytes_per_second": bandwidth, "cores": os.cpu_count(), "sizes": []}
    print(f"read bandwidth ({os.cpu_count()} threads): {bandwidth / 1e9:.1f} GB/s")
    work = tempfile.mkdtemp(prefix="lineup-matcher-")
    try:
        for size in args.sizes.split(","):
            rows, dimension = map(int, size.split("x"))
            rng = np.random.default_rng(rows + dimension)
            data = rng.standard_normal((rows, dimension), dtype=np.float32)
            data /= np.linalg.norm(data, axis=1, keepdims=True)
            probes = rng.standard_normal((max(args.batch, 16), dimension), dtype=np.float32)
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)
            np.save(os.path.join(work, "vectors.npy"), data)
            np.save(os.path.join(work, "probes.npy"), probes)
            with open(os.path.join(work, "ids.txt"), "w") as f:
                f.write("".join(f"p{i}\n" for i in range(rows)))
            entry = {"rows": rows, "dimension": dimension, "floor_seconds": rows * dimension * 4 / bandwidth}

            for compression in ("none", "fp16", "int8"):
                store = os.path.join(work, f"store-{compression}")
                run_bench("import", store, "g", os.path.join(work, "vectors.npy"), os.path.join(work, "ids.txt"),
                          "--compression", compression)
                measured = run_bench("probe", store, "g", os.path.join(work, "probes.npy"), "--repeat", 10,
                                     "--batch", args.batch)
                measured["store_bytes_per_faceprint"] = sum(
                    os.path.getsize(os.path.join(store, name)) for name in os.listdir(store)) / rows
                entry[f"lineup_{compression}"] = measured
                shutil.rmtree(store)

            entry["numpy_gemv_seconds"] = median_time(lambda q: data @ q, probes)
            start = time.perf_counter()
            _ = data @ probes[: args.batch].T
            entry["numpy_gemm_seconds_per_probe"] = (time.perf_counter() - start) / args.batch
            if faiss is not None:
                for name, index in (("flat", faiss.IndexFlatIP(dimension)),
                                    ("sq_fp16", faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)),
                                    ("sq8", faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT))):
                    if not index.is_trained:
                        index.train(data)
                    index.add(data)
                    entry[f"faiss_{name}_seconds"] = median_time(lambda q: index.search(q.reshape(1, -1), 10), probes)
                    del index
            results["sizes"].append(entry)

            print(f"\n{rows:,} x {dimension}  (bandwidth floor {entry['floor_seconds'] * 1000:.1f} ms for float32)")
            for compression, faiss_name in (("none", "flat"), ("fp16", "sq_fp16"), ("int8", "sq8")):
                lineup = entry[f"lineup_{compression}"]
                single = lineup["single_median_seconds"]
                line = f"  {compression:5}  single {single * 1000:8.2f} ms"
                if compression == "none":
                    line += f" ({entry['floor_seconds'] / single * 100:5.1f}% of bandwidth; numpy gemv {entry['numpy_gemv_seconds'] * 1000:.2f} ms = {single / entry['numpy_gemv_seconds']:.2f}x)"
                if f"faiss_{faiss_name}_seconds" in entry:
                    reference = entry[f"faiss_{faiss_name}_seconds"]
                    line += f"  FAISS {faiss_name} {reference * 1000:8.2f} ms -> {single / reference:.2f}x"
                line += f"  | batch {args.batch}: {lineup['batch_seconds_per_probe'] * 1000:.2f} ms/probe ({lineup['batch_seconds_per_probe'] / entry['numpy_gemm_seconds_per_probe']:.2f}x BLAS gemm)"
                line += f"  | {lineup['store_bytes_per_faceprint']:.0f} B/Faceprint on disk"
                if "resident_bytes_before_open" in lineup:
                    grown = lineup["resident_bytes_after_scan"] - lineup["resident_bytes_before_open"]
                    line += (f", {grown / rows:.0f} resident"
                             f" (process {lineup['resident_bytes_after_scan'] / rows:.0f} incl. runtime)")
                print(line)
            del data
        save_results("matcher", results)
        if args.plot:
            plot(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plot(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for dimension in sorted({entry["dimension"] for entry in results["sizes"]}):
        entries = sorted((e for e in results["sizes"] if e["dimension"] == dimension), key=lambda e: e["rows"])
        for compression, marker in (("none", "o"), ("fp16", "s"), ("int8", "^")):
            xs = [e["rows"] for e in entries]
            ys = [e[f"lineup_{compression}"]["single_median_seconds"] * 1000 for e in entries]
            axis.plot(xs, ys, marker=marker, label=f"Lineup {compression}, {dimension}-d")
        if "faiss_flat_seconds" in entries[0]:
            axis.plot([e["rows"] for e in entries], [e["faiss_flat_seconds"] * 1000 for e in entries],
                      linestyle="--" if dimension >= 512 else ":", color="black" if dimension >= 512 else "gray",
                      marker="x", label=f"FAISS flat, {dimension}-d")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("Faceprints in the collection")
    axis.set_ylabel("time per probe (ms)")
    axis.set_title("Single-probe identification, exact, top-10")
    axis.legend(fontsize=8)
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(os.path.join(HERE, "results", "matcher.png"), dpi=120)
    print(f"wrote {os.path.join(HERE, 'results', 'matcher.png')}")


if __name__ == "__main__":
    main()
