#!/usr/bin/env python3
"""Top-N people against top-N templates: identifyTopIdentities beside identifyTopCandidates on
the same store, and numpy's exhaustive answer to both, side by side in one run.

  python3 Benchmarks/identities_bench.py [--rows 1000000] [--dimension 512] [--repeat 10] [--batch 256]

The gallery is face-like (harness.face_like: four templates a person, clustered around
anisotropic centres), imported into a float32 Lineup store and scanned in place. The probes
are enrolled templates, so each person's other templates crowd the top of the candidate
list: the case where a list of people differs most from a list of templates. Times are
medians over the probes (top-10, no threshold, every core), each probe run both ways in turn;
a batch of --batch probes (templates drawn like the single probes) both ways, per probe.
numpy: the score vector (matrix @ probe), then for templates argpartition, and for people the
best score of each identity (np.maximum.at over the identity codes) then argpartition.
Prints the ratios and writes Benchmarks/results/identities.json.
"""
import argparse, os, shutil, statistics, sys, tempfile, time

import numpy as np

from harness import BENCH, run_bench, save_results, write_face_like_inputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"error: {BENCH} is missing; run `make bench`")
    work = tempfile.mkdtemp(prefix="lineup-identities-")
    try:
        vectors, identities, npy, names = write_face_like_inputs(work, args.rows, args.dimension)
        store = os.path.join(work, "store")
        run_bench("import", store, "gallery", npy, names)
        rng = np.random.default_rng(5)
        chosen = rng.choice(args.rows, size=max(args.repeat, args.batch), replace=False)
        probes = os.path.join(work, "probes.npy")
        np.save(probes, vectors[chosen])
        lineup = run_bench("probe", store, "gallery", probes, "--repeat", args.repeat, "--batch", args.batch, "--distinct")
        chosen = chosen[:args.repeat]

        codes = np.unique(np.array(identities), return_inverse=True)[1]
        people = int(codes.max()) + 1
        templates_times, people_times = [], []
        for row in chosen:
            probe = vectors[row]
            start = time.perf_counter()
            scores = vectors @ probe
            top = np.argpartition(-scores, 10)[:10]
            top = top[np.argsort(-scores[top], kind="stable")]
            templates_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            scores = vectors @ probe
            best = np.full(people, -np.inf, dtype=np.float32)
            np.maximum.at(best, codes, scores)
            top_people = np.argpartition(-best, 10)[:10]
            people_times.append(time.perf_counter() - start)
        results = {
            "rows": args.rows, "dimension": args.dimension, "probes": args.repeat,
            "lineup_candidates_seconds": lineup["single_median_seconds"],
            "lineup_identities_seconds": lineup["distinct_median_seconds"],
            "numpy_candidates_seconds": statistics.median(templates_times),
            "numpy_identities_seconds": statistics.median(people_times),
            "batch": args.batch,
            "lineup_batch_candidates_seconds_per_probe": lineup["batch_seconds_per_probe"],
            "lineup_batch_identities_seconds_per_probe": lineup["distinct_batch_seconds_per_probe"],
        }
        results["lineup_identities_over_candidates"] = results["lineup_identities_seconds"] / results["lineup_candidates_seconds"]
        results["lineup_batch_identities_over_candidates"] = (results["lineup_batch_identities_seconds_per_probe"]
                                                             / results["lineup_batch_candidates_seconds_per_probe"])
        results["numpy_identities_over_lineup_identities"] = results["numpy_identities_seconds"] / results["lineup_identities_seconds"]
        for key, value in results.items():
            print(f"{key:42} {value:.6g}" if isinstance(value, float) else f"{key:42} {value}")
        save_results("identities", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
