#!/usr/bin/env python3
"""Backup and export: `lineup backup` (hard links, and --copy) against `cp -r` of the store and
SQLite's online backup API of the same rows; `lineup export` rows per second and peak resident
memory.

Face-like data: identities are clusters around centres drawn from an anisotropic Gaussian
(a decaying eigen-spectrum), each template a noisy copy of its identity's centre, normalised.
One run, same machine, same disk; writes Benchmarks/results/backup.json.
"""
import argparse, os, shutil, sqlite3, subprocess, sys, tempfile, time

import numpy as np

from harness import LINEUP, save_results, sqlite_faceprints, timed, write_face_like_inputs


def directory_bytes(path):
    return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))


def sqlite_backup(work, vectors, identities):
    db, _ = sqlite_faceprints(os.path.join(work, "source.sqlite"), vectors, identities, journal_mode="WAL")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    subprocess.run(["sync"], check=True)
    target_path = os.path.join(work, "copy.sqlite")
    start = time.perf_counter()
    target = sqlite3.connect(target_path)
    db.backup(target)
    target.close()
    descriptor = os.open(target_path, os.O_RDONLY)
    os.fsync(descriptor)
    os.close(descriptor)
    elapsed = time.perf_counter() - start
    db.close()
    return {"seconds": elapsed, "bytes": os.path.getsize(target_path)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=512)
    args = parser.parse_args()
    if not os.path.exists(LINEUP):
        sys.exit(f"error: {LINEUP} is missing; run `swift build -c release --product lineup`")
    work = tempfile.mkdtemp(prefix="lineup-backup-bench-", dir=os.environ.get("TMPDIR", "/tmp"))
    try:
        vectors, identities, npy, names = write_face_like_inputs(work, args.rows, args.dimension)
        store = os.path.join(work, "store")
        subprocess.run([LINEUP, "create", store, "g"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([LINEUP, "import", store, "g", "--vectors", npy,
                        "--identities", names], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["sync"], check=True)
        size = directory_bytes(store)

        linked, _ = timed([LINEUP, "backup", store, os.path.join(work, "linked")])
        copied, copy_rss = timed([LINEUP, "backup", store, os.path.join(work, "copied"), "--copy"])
        start = time.perf_counter()
        subprocess.run(["cp", "-r", store, os.path.join(work, "cp")], check=True)
        subprocess.run(["sync", "-f", os.path.join(work, "cp")], check=True)
        cp = time.perf_counter() - start
        sqlite = sqlite_backup(work, vectors, identities)

        export, export_rss = timed([LINEUP, "export", store, "g", "--vectors", os.path.join(work, "out.npy"),
                                    "--identities", os.path.join(work, "out.txt")])
        exported = np.load(os.path.join(work, "out.npy"), mmap_mode="r")
        # The store holds the vectors as it normalised them (float32 rounding of its own).
        assert exported.shape == vectors.shape and np.allclose(exported[:1000], vectors[:1000], atol=1e-6)

        results = {
            "rows": args.rows, "dimension": args.dimension, "store_bytes": size,
            "backup_linked_seconds": linked, "backup_copy_seconds": copied, "backup_copy_peak_rss": copy_rss,
            "cp_r_and_sync_seconds": cp, "sqlite_backup": sqlite,
            "export_seconds": export, "export_rows_per_second": args.rows / export, "export_peak_rss": export_rss,
        }
        mb = size / 1e6
        print(f"Backup and export of {args.rows:,} x {args.dimension} float32, face-like (this machine, one run)")
        print(f"  store: {mb:,.0f} MB")
        print(f"  lineup backup (hard links):  {linked:.3f} s")
        print(f"  lineup backup --copy:        {copied:.2f} s = {mb / copied:,.0f} MB/s, peak RSS {copy_rss / 1e6:,.0f} MB")
        print(f"  cp -r + sync:                {cp:.2f} s = {mb / cp:,.0f} MB/s    (--copy / cp: {copied / cp:.2f}x)")
        print(f"  SQLite online backup:        {sqlite['seconds']:.2f} s of a {sqlite['bytes'] / 1e6:,.0f} MB file"
              f"    (--copy / SQLite: {copied / sqlite['seconds']:.2f}x; links / SQLite: {linked / sqlite['seconds']:.3f}x)")
        print(f"  lineup export:               {export:.2f} s = {args.rows / export:,.0f} rows/s, peak RSS {export_rss / 1e6:,.0f} MB")
        save_results("backup", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
