#!/usr/bin/env python3
"""Bulk import: `lineup import` of an N x D float32 .npy against SQLite's bulk insert of the
same rows (one transaction, executemany, synchronous=FULL) and against the disk's own write
rate (`dd … conv=fsync` of as many bytes), in one run; with `lineup import`'s peak resident
memory, which must stay bounded (≤ 0.5 GB) whatever the file's size.

Face-like data (harness.face_like). Writes Benchmarks/results/import.json.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

from harness import LINEUP, save_results, sqlite_faceprints, timed, write_face_like_inputs


def dd_rate(path, megabytes):
    start = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={megabytes}", "conv=fsync"],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    os.unlink(path)
    return megabytes * 1048576 / 1e6 / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=512)
    args = parser.parse_args()
    if not os.path.exists(LINEUP):
        sys.exit(f"error: {LINEUP} is missing; run `swift build -c release --product lineup`")
    work = tempfile.mkdtemp(prefix="lineup-import-bench-", dir=os.environ.get("TMPDIR", "/tmp"))
    try:
        vectors, identities, npy, names = write_face_like_inputs(work, args.rows, args.dimension)
        megabytes = os.path.getsize(npy) / 1e6
        store = os.path.join(work, "store")
        subprocess.run([LINEUP, "create", store, "g"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["sync"], check=True)
        seconds, peak = timed([LINEUP, "import", store, "g", "--vectors", npy,
                               "--identities", names])
        db, sqlite_seconds = sqlite_faceprints(os.path.join(work, "s.sqlite"), vectors, identities)
        db.close()
        disk = dd_rate(os.path.join(work, "dd.bin"), int(megabytes))
        rate = megabytes / seconds
        results = {"rows": args.rows, "dimension": args.dimension, "file_megabytes": megabytes,
                   "lineup_seconds": seconds, "lineup_rows_per_second": args.rows / seconds,
                   "lineup_megabytes_per_second": rate, "lineup_peak_rss": peak,
                   "sqlite_seconds": sqlite_seconds, "sqlite_rows_per_second": args.rows / sqlite_seconds,
                   "dd_megabytes_per_second": disk}
        print(f"Bulk import of {args.rows:,} x {args.dimension} float32 ({megabytes:,.0f} MB .npy), face-like (this machine, one run)")
        print(f"  lineup import:  {seconds:.2f} s = {args.rows / seconds:,.0f} rows/s = {rate:,.0f} MB/s, peak RSS {peak / 1e6:,.0f} MB")
        print(f"  SQLite insert:  {sqlite_seconds:.2f} s = {args.rows / sqlite_seconds:,.0f} rows/s   (Lineup / SQLite: {sqlite_seconds / seconds:.2f}x the rate)")
        print(f"  dd conv=fsync:  {disk:,.0f} MB/s   (Lineup at {rate / disk:.0%} of the disk's rate; it reads the file twice)")
        save_results("import", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
