#!/usr/bin/env python3
"""Compaction: remove half of a collection, compact it, against SQLite's DELETE + VACUUM.

Same rows in both (uuid, identity, float32 vector). Lineup: `lineup-bench compact` removes
every other Faceprint, then compacts while it keeps probing (probe latency during compaction
against idle), and reports the live data rewritten per second and the store's size before and
after. SQLite: DELETE of the same half in one transaction, then VACUUM, timed, with the file
size before and after. Prints the ratios; writes Benchmarks/results/compaction.json.
"""
import argparse, json, os, shutil, sqlite3, subprocess, sys, tempfile, time, uuid

import numpy as np

from harness import BENCH, run_bench, save_results



def sqlite_vacuum(path, vectors, identities):
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE faceprints (uuid TEXT PRIMARY KEY, identity TEXT NOT NULL, vector BLOB NOT NULL)")
    with db:
        db.executemany("INSERT INTO faceprints VALUES (?, ?, ?)",
                       ((str(uuid.uuid4()), identities[i], vectors[i].tobytes()) for i in range(len(identities))))
    before = os.path.getsize(path)
    ids = [row[0] for row in db.execute("SELECT uuid FROM faceprints ORDER BY uuid")]
    with db:
        db.executemany("DELETE FROM faceprints WHERE uuid = ?", ((u,) for u in ids[::2]))
    live_bytes = sum(len(row[0]) for row in db.execute("SELECT vector FROM faceprints"))
    start = time.perf_counter()
    db.execute("VACUUM")
    elapsed = time.perf_counter() - start
    db.close()
    return {"vacuum_seconds": elapsed, "bytes_before": before, "bytes_after": os.path.getsize(path),
            "live_vector_megabytes_per_second": live_bytes / 1e6 / elapsed}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dimension", type=int, default=512)
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"error: {BENCH} is missing; run `swift build -c release --product lineup-bench`")
    work = tempfile.mkdtemp(prefix="lineup-compact-bench-")
    try:
        rng = np.random.default_rng(5)
        vectors = rng.standard_normal((args.rows, args.dimension), dtype=np.float32)
        identities = [f"person-{i}" for i in range(args.rows)]
        np.save(os.path.join(work, "vectors.npy"), vectors)
        np.save(os.path.join(work, "probes.npy"), vectors[:64])
        with open(os.path.join(work, "identities.txt"), "w") as f:
            f.write("\n".join(identities) + "\n")
        store = os.path.join(work, "store")
        run_bench("import", store, "g", os.path.join(work, "vectors.npy"), os.path.join(work, "identities.txt"))
        lineup = run_bench("compact", store, "g", os.path.join(work, "probes.npy"), "--remove-every", "2")
        sqlite = sqlite_vacuum(os.path.join(work, "s.sqlite"), vectors, identities)
        results = {"rows": args.rows, "dimension": args.dimension, "lineup": lineup, "sqlite": sqlite}
        print(f"Compaction after removing half of {args.rows:,} x {args.dimension} float32 (this machine, one run)")
        print(f"  Lineup: compacted in {lineup['compact_seconds']:.2f} s = {lineup['live_megabytes_per_second']:,.0f} MB/s of live data rewritten"
              f" ({lineup['faceprints_copied']:,} copied, {lineup['faceprints_erased']:,} erased)")
        print(f"          store {lineup['store_bytes_before'] / 1e6:,.1f} MB -> {lineup['store_bytes_after'] / 1e6:,.1f} MB"
              f" (dead bytes {lineup['dead_bytes_before'] / 1e6:,.1f} MB -> {lineup['dead_bytes_after'] / 1e6:,.1f} MB)")
        print(f"          probe median idle {lineup['idle_probe_median_seconds'] * 1000:.2f} ms, during compaction"
              f" {lineup['during_probe_median_seconds'] * 1000:.2f} ms ({lineup['during_probe_median_seconds'] / lineup['idle_probe_median_seconds']:.2f}x;"
              f" worst {lineup['during_probe_worst_seconds'] * 1000:.2f} ms over {lineup['probes_during_compaction']} probes)")
        print(f"  SQLite: DELETE half + VACUUM: VACUUM {sqlite['vacuum_seconds']:.2f} s = {sqlite['live_vector_megabytes_per_second']:,.0f} MB/s of live vectors,"
              f" file {sqlite['bytes_before'] / 1e6:,.1f} MB -> {sqlite['bytes_after'] / 1e6:,.1f} MB")
        ratio = lineup["live_megabytes_per_second"] / sqlite["live_vector_megabytes_per_second"]
        results["throughput_ratio_lineup_over_sqlite"] = ratio
        print(f"  throughput ratio Lineup / SQLite VACUUM: {ratio:.2f}x")
        save_results("compaction", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
