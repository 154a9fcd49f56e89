#!/usr/bin/env python3
"""Calibration from a collection's own pairs: Lineup's `SDK.calibrate` against the same work
in numpy, side by side in one run, on the same face-like vectors.

  python3 Benchmarks/calibration_bench.py [--sizes 100000x512,1000000x512]

For each size the vectors (harness.face_like: four templates a person) are imported into a
float32 store, and `lineup-bench calibrate` times the whole call: every genuine pair (six a
person) and a million sampled impostor pairs scored, the logistic fit, FAR/FRR at 2,001
thresholds, the curve stored. numpy does the same from the matrix already in memory: the
genuine pairs' dot products by person (einsum), a million random impostor pairs (rows of two
people, einsum over the gathered rows), Newton's method for the logistic, and the rates with
searchsorted. Prints both times, their ratio and the two curves; writes
Benchmarks/results/calibration.json.
"""
import argparse, os, shutil, sys, tempfile, time

import numpy as np

from harness import BENCH, run_bench, save_results, write_face_like_inputs


def numpy_calibration(vectors, owner, impostors=1_000_000, seed=5):
    start = time.perf_counter()
    order = np.argsort(owner, kind="stable")
    grouped = vectors[order].reshape(-1, 4, vectors.shape[1])   # four templates a person
    genuine = np.concatenate([np.einsum("pd,pd->p", grouped[:, a], grouped[:, b])
                              for a in range(4) for b in range(a + 1, 4)])
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(vectors), impostors * 2)
    second = rng.integers(0, len(vectors), impostors * 2)
    keep = owner[first] != owner[second]
    first, second = first[keep][:impostors], second[keep][:impostors]
    impostor = np.einsum("nd,nd->n", vectors[first], vectors[second])
    s = np.concatenate([genuine, impostor]).astype(np.float64)
    y = np.concatenate([np.ones(len(genuine)), np.zeros(len(impostor))])
    w = np.concatenate([np.full(len(genuine), 0.5 / len(genuine)), np.full(len(impostor), 0.5 / len(impostor))])
    a = b = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a * s + b)))
        c = w * p * (1 - p)
        hessian = np.array([[(c * s * s).sum() + 1e-6, (c * s).sum()], [(c * s).sum(), c.sum()]])
        step = np.linalg.solve(hessian, [(w * (y - p) * s).sum() - 1e-6 * a, (w * (y - p)).sum()])
        a, b = a + step[0], b + step[1]
        if abs(step[0]) < 1e-10 * max(1, abs(a)):
            break
    thresholds = np.linspace(-1, 1, 2001, dtype=np.float32)
    far = 1 - np.searchsorted(np.sort(impostor), thresholds, side="left") / len(impostor)
    frr = np.searchsorted(np.sort(genuine), thresholds, side="left") / len(genuine)
    elapsed = time.perf_counter() - start
    return elapsed, float(-b / a), float(a), len(genuine), len(impostor), far, frr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000x512,1000000x512")
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"error: {BENCH} is missing; run `make bench`")
    results = []
    for size in args.sizes.split(","):
        rows, dimension = map(int, size.split("x"))
        work = tempfile.mkdtemp(prefix="lineup-calibration-")
        try:
            vectors, identities, npy, names = write_face_like_inputs(work, rows, dimension)
            store = os.path.join(work, "store")
            run_bench("import", store, "gallery", npy, names)
            lineup = run_bench("calibrate", store, "gallery")
            owner = np.unique(np.array(identities), return_inverse=True)[1]
            seconds, midpoint, steepness, genuine, impostor, _, _ = numpy_calibration(vectors, owner)
            result = {"rows": rows, "dimension": dimension,
                      "lineup_seconds": lineup["seconds"], "numpy_seconds": seconds,
                      "lineup_over_numpy": lineup["seconds"] / seconds,
                      "lineup_pairs": [lineup["genuine_pairs"], lineup["impostor_pairs"]],
                      "numpy_pairs": [genuine, impostor],
                      "lineup_curve": [lineup["midpoint"], lineup["steepness"]], "numpy_curve": [midpoint, steepness]}
            results.append(result)
            print(f"{rows} x {dimension}: Lineup {lineup['seconds']:.2f} s, numpy {seconds:.2f} s "
                  f"(ratio {result['lineup_over_numpy']:.2f}); curves m={lineup['midpoint']:.4f} k={lineup['steepness']:.2f} "
                  f"vs m={midpoint:.4f} k={steepness:.2f}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    save_results("calibration", results)


if __name__ == "__main__":
    main()
