#!/usr/bin/env python3
"""Encrypted vs plaintext Lineup stores, same data, same run (issue: encryption at rest).

Measures, for each mode, with `lineup-bench` (release):
  - bulk import (rows/s), best of 3;
  - durable single enrollments, 1 and 8 threads (enrollments/s);
  - open + load (the encrypted store decrypts every segment into memory), first probe;
  - warm single-probe latency and 256-probe batch time per probe (search speed once loaded).
Prints the ratios encrypted / plaintext and writes Benchmarks/results/encryption.json.
The passphrase derivation (PBKDF2, 600,000 iterations) is part of every encrypted open.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

import numpy as np

from harness import BENCH, run_bench, save_results
PASSPHRASE = "benchmark passphrase"


def bench(encrypted, *args):
    """`lineup-bench ARGS…` on a plaintext store, or an encrypted one."""
    env = dict(os.environ)
    env.pop("LINEUP_PASSPHRASE", None)
    if encrypted:
        env["LINEUP_PASSPHRASE"] = PASSPHRASE
    return run_bench(*args, env=env)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--durable", type=int, default=2000)
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"error: {BENCH} is missing; run `swift build -c release --product lineup-bench`")
    work = tempfile.mkdtemp(prefix="lineup-enc-bench-")
    try:
        rng = np.random.default_rng(3)
        vectors = rng.standard_normal((args.rows, args.dimension), dtype=np.float32)
        np.save(os.path.join(work, "vectors.npy"), vectors)
        np.save(os.path.join(work, "probes.npy"), vectors[:256] + 0.05 * rng.standard_normal((256, args.dimension), dtype=np.float32))
        with open(os.path.join(work, "identities.txt"), "w") as f:
            f.write("\n".join(f"person-{i // 4}" for i in range(args.rows)) + "\n")
        modes = {"plaintext": False, "encrypted": True}
        results = {"rows": args.rows, "dimension": args.dimension}
        imports = {mode: [] for mode in modes}
        for attempt in range(3):   # interleaved, so both modes see the same disk weather
            for mode, encrypted in modes.items():
                store = os.path.join(work, f"{mode}-{attempt}")
                imports[mode].append(bench(encrypted, "import", store, "g", os.path.join(work, "vectors.npy"),
                                               os.path.join(work, "identities.txt"))["rows_per_second"])
                if attempt < 2:
                    shutil.rmtree(store)
        for mode, encrypted in modes.items():
            store = os.path.join(work, f"{mode}-2")
            one = bench(encrypted, "enroll", os.path.join(work, f"{mode}-durable1"), "g", "--threads", "1",
                            "--count", str(args.durable), "--dimension", str(args.dimension))
            eight = bench(encrypted, "enroll", os.path.join(work, f"{mode}-durable8"), "g", "--threads", "8",
                              "--count", str(args.durable * 2), "--dimension", str(args.dimension))
            opens = [bench(encrypted, "open-probe", store, "g", os.path.join(work, "probes.npy")) for _ in range(3)]
            probe = bench(encrypted, "probe", store, "g", os.path.join(work, "probes.npy"), "--repeat", "15", "--batch", "256")
            results[mode] = {
                "import_rows_per_second": max(imports[mode]),
                "durable_1_thread_per_second": one["enrollments_per_second"],
                "durable_8_threads_per_second": eight["enrollments_per_second"],
                "open_seconds": min(o["open_seconds"] for o in opens),
                "open_and_first_probe_seconds": min(o["open_and_first_probe_seconds"] for o in opens),
                "single_probe_median_seconds": probe["single_median_seconds"],
                "batch_seconds_per_probe": probe["batch_seconds_per_probe"],
                "resident_bytes_after_scan": probe.get("resident_bytes_after_scan"),
                "store_bytes": sum(os.path.getsize(os.path.join(store, n)) for n in os.listdir(store)),
            }
        plain, enc = results["plaintext"], results["encrypted"]
        results["ratios_encrypted_over_plaintext"] = {key: enc[key] / plain[key] for key in plain if plain[key]}
        print(f"Encrypted vs plaintext store, {args.rows} x {args.dimension} float32 (this machine, one run)")
        rows = [("bulk import (rows/s, best of 3)", "import_rows_per_second", "{:,.0f}"),
                ("durable enroll, 1 thread (/s)", "durable_1_thread_per_second", "{:,.0f}"),
                ("durable enroll, 8 threads (/s)", "durable_8_threads_per_second", "{:,.0f}"),
                ("open + load (ms, best of 3)", "open_seconds", "{:.1f}"),
                ("open + first probe (ms)", "open_and_first_probe_seconds", "{:.1f}"),
                ("warm single probe (ms, median)", "single_probe_median_seconds", "{:.2f}"),
                ("batch of 256, per probe (ms)", "batch_seconds_per_probe", "{:.3f}"),
                ("store bytes", "store_bytes", "{:,.0f}")]
        print(f"  {'':34} {'plaintext':>14} {'encrypted':>14} {'enc/plain':>10}")
        for label, key, fmt in rows:
            scale = 1000 if key.endswith("seconds") or key.endswith("per_probe") else 1
            print(f"  {label:34} {fmt.format(plain[key] * scale):>14} {fmt.format(enc[key] * scale):>14} {enc[key] / plain[key]:>9.2f}x")
        save_results("encryption", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
