#!/usr/bin/env python3
"""Shared mode: propagation latency between processes, and enrollment with 1 and 2 writers.

Propagation: a `lineup enroll --shared` writer and a `lineup watch` process (check interval
0.1 s) on one store. Each enrollment's latency runs from the writer's acknowledgement (its
UUID line read here) to the watcher's line reporting the new count (its own timestamp), with
a random pause between enrollments so that every phase of the interval is sampled. Measured
twice: with the directory watch (inotify) and with the interval alone.

Throughput: durable single enrollments (512-d) from one `lineup-bench enroll --shared`
process, then from two at once on the same store, against SQLite in WAL mode
(synchronous=FULL, a transaction per row, busy_timeout) from one and two processes.
Writes Benchmarks/results/shared.json.
"""
import argparse, json, multiprocessing, os, random, shutil, sqlite3, statistics, subprocess, sys, tempfile, threading, time, uuid

from harness import BENCH, LINEUP, save_results


def propagation(work, samples, watch_mode):
    store = os.path.join(work, f"prop-{watch_mode}")
    subprocess.run([LINEUP, "create", store, "g"], check=True)
    env = dict(os.environ)
    if watch_mode == "interval":
        env["LINEUP_SHARED_WATCH"] = "interval"
    watcher = subprocess.Popen([LINEUP, "watch", store, "g", "--check-interval", "0.1", "--timeout", "600"],
                               stdout=subprocess.PIPE, text=True, env=env)
    seen = {}
    lock = threading.Condition()

    def follow():
        for line in watcher.stdout:
            stamp, count = line.split()
            with lock:
                seen.setdefault(int(count), float(stamp))
                lock.notify_all()
    threading.Thread(target=follow, daemon=True).start()
    writer = subprocess.Popen([LINEUP, "enroll", store, "g", "--shared"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, bufsize=1)
    rng = random.Random(7)
    latencies = []
    with lock:
        lock.wait_for(lambda: 0 in seen, timeout=10)
    for index in range(samples):
        vector = [rng.gauss(0, 1) for _ in range(128)]
        writer.stdin.write(json.dumps({"identity": f"p{index}", "feature_vector": vector}) + "\n")
        writer.stdin.flush()
        writer.stdout.readline()
        acknowledged = time.time()
        with lock:
            lock.wait_for(lambda: index + 1 in seen, timeout=10)
            latencies.append(max(0.0, seen.get(index + 1, float("inf")) - acknowledged))
        time.sleep(rng.uniform(0, 0.15))
    writer.stdin.close()
    writer.wait()
    watcher.kill()
    latencies.sort()
    return {"samples": samples, "median_seconds": statistics.median(latencies),
            "p95_seconds": latencies[int(0.95 * (len(latencies) - 1))], "max_seconds": latencies[-1]}


def lineup_writers(work, processes, count, dimension):
    store = os.path.join(work, f"writers-{processes}")
    subprocess.run([LINEUP, "create", store, "g"], check=True)
    running = [subprocess.Popen([BENCH, "enroll", store, "g", "--threads", "1", "--count", str(count),
                                 "--dimension", str(dimension), "--shared"], stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    rates = []
    for process in running:
        out, _ = process.communicate()
        if process.returncode != 0:
            sys.exit("lineup-bench enroll --shared failed")
        rates.append(json.loads(out.strip().splitlines()[-1])["enrollments_per_second"])
    # Each process times its own enrollments (not its start-up); they run side by side, so
    # the store's rate is their sum.
    return sum(rates)


def sqlite_writer(path, count, dimension, seed, rates):
    db = sqlite3.connect(path, timeout=60)
    db.execute("PRAGMA synchronous=FULL")
    rng = random.Random(seed)
    blob = bytes(rng.getrandbits(8) for _ in range(dimension * 4))
    start = time.perf_counter()
    for index in range(count):
        with db:
            db.execute("INSERT INTO faceprints VALUES (?, ?, ?)", (str(uuid.uuid4()), f"p{index}", blob))
    rates.put(count / (time.perf_counter() - start))
    db.close()


def sqlite_writers(work, processes, count, dimension):
    path = os.path.join(work, f"writers-{processes}.sqlite")
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE faceprints (uuid TEXT PRIMARY KEY, identity TEXT NOT NULL, vector BLOB NOT NULL)")
    db.commit()
    db.close()
    rates = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=sqlite_writer, args=(path, count, dimension, seed, rates)) for seed in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(rates.get() for _ in workers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--dimension", type=int, default=512)
    args = parser.parse_args()
    for binary in (LINEUP, BENCH):
        if not os.path.exists(binary):
            sys.exit(f"error: {binary} is missing; run `swift build -c release --product lineup` and `--product lineup-bench`")
    work = tempfile.mkdtemp(prefix="lineup-shared-bench-")
    try:
        results = {"propagation_inotify": propagation(work, args.samples, "inotify"),
                   "propagation_interval_only": propagation(work, args.samples, "interval")}
        for processes in (1, 2):
            results[f"lineup_{processes}_writers_per_second"] = lineup_writers(work, processes, args.count, args.dimension)
            results[f"sqlite_{processes}_writers_per_second"] = sqlite_writers(work, processes, args.count, args.dimension)
        print("Shared mode (this machine, one run)")
        for mode in ("inotify", "interval_only"):
            p = results[f"propagation_{mode}"]
            print(f"  propagation at interval 0.1 s, {mode.replace('_', ' '):13}: median {p['median_seconds'] * 1000:7.1f} ms,"
                  f" p95 {p['p95_seconds'] * 1000:7.1f} ms, max {p['max_seconds'] * 1000:7.1f} ms over {p['samples']} enrollments")
        for processes in (1, 2):
            ours, theirs = results[f"lineup_{processes}_writers_per_second"], results[f"sqlite_{processes}_writers_per_second"]
            print(f"  durable enrollments, {processes} writer process{'es' if processes > 1 else ''}: Lineup {ours:8,.0f} /s,"
                  f" SQLite WAL {theirs:8,.0f} /s  ratio {ours / theirs:.2f}x")
        save_results("shared", results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
