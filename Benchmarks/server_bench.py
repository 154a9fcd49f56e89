#!/usr/bin/env python3
"""`lineup serve` under load, beside the same work in-process and beside a minimal reference
server (aiohttp + FAISS IndexFlatIP, Benchmarks/reference_server.py), in one run, on loopback.

  python3 Benchmarks/server_bench.py [--rows 100000,1000000] [--dimension 512] [--seconds 10]
                                     [--clients 1,8,64] [--batch 256]

For each gallery size: face-like vectors (harness.face_like) imported into a float32 store;
then, with wrk (Debian's `wrk`, two threads, closed loop, C connections):

- single-probe identify (top 1, threshold 0.4, JSON bodies of 64 different probes in turn)
  at 1, 8 and 64 connections: requests per second, p50 and p99 latency — against Lineup's
  server, against the reference server, and in-process (`lineup-bench load`, C client
  threads calling identifyTopCandidates the same way);
- batch identify of 256 probes in one request (a .npy body, and a JSON body), one connection:
  the latency per request against one batchIdentifyTopCandidates call in-process;

each wrk run against a server process of its own, started for it;
- durable enrollments (one Faceprint a request, 8 connections) against `lineup-bench enroll`
  with 8 threads. The reference server keeps nothing on disk, so it has no twin here.

Ratios: HTTP over in-process (the server's overhead) and Lineup over the reference. Writes
Benchmarks/results/server.json. Needs wrk (apt-get install wrk), numpy, faiss-cpu, aiohttp.
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time

import numpy as np

from harness import BENCH, HERE, LINEUP, face_like, run_bench, save_results

PROBES = 64


def start(command):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        sys.exit(f"error: {' '.join(command)} did not start")
    return process, line.split()[-1]


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk_script(work, name, path, bodies, content_type):
    """A wrk Lua script that posts the files `bodies` to `path` in turn."""
    script = os.path.join(work, f"{name}.lua")
    files = ", ".join(json.dumps(b) for b in bodies)
    with open(script, "w") as f:
        f.write(f"""
local files = {{{files}}}
local bodies = {{}}
for i, name in ipairs(files) do
  local handle = io.open(name, "rb"); bodies[i] = handle:read("*all"); handle:close()
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "{path}", {{["Content-Type"] = "{content_type}"}}, bodies[(n % #bodies) + 1])
end
""")
    return script


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url, script, connections, seconds):
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "--timeout", "30s", "-s", script, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"error: wrk saw failed requests:\n{out}")

    def latency(percent):
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]
    return {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_seconds": latency(50), "p99_seconds": latency(99)}


def write(path, data, mode="w"):
    with open(path, mode) as f:
        f.write(data)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    for program in (BENCH, LINEUP):
        if not os.path.exists(program):
            sys.exit(f"error: {program} is missing; run `make bench`")
    if not shutil.which("wrk"):
        sys.exit("error: wrk is missing: apt-get install wrk")
    clients = [int(c) for c in args.clients.split(",")]
    results = {"dimension": args.dimension, "seconds": args.seconds, "sizes": []}
    for rows in (int(r) for r in args.rows.split(",")):
        work = tempfile.mkdtemp(prefix="lineup-server-bench-")
        try:
            results["sizes"].append(measure(work, rows, args, clients))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    save_results("server", results)


def measure(work, rows, args, clients):
    vectors, identities = face_like(rows + PROBES + args.batch, args.dimension)
    gallery, probes = vectors[:rows], vectors[rows:rows + PROBES]
    batch = vectors[rows:rows + args.batch] if args.batch <= len(vectors) - rows else probes
    npy, names = os.path.join(work, "vectors.npy"), os.path.join(work, "identities.txt")
    np.save(npy, gallery)
    write(names, "\n".join(identities[:rows]) + "\n")
    np.save(os.path.join(work, "probes.npy"), probes)
    store = os.path.join(work, "store")
    subprocess.run([LINEUP, "create", store, "staff"], check=True)
    subprocess.run([LINEUP, "import", store, "staff", "--vectors", npy, "--identities", names], check=True,
                   stdout=subprocess.DEVNULL)

    single = [write(os.path.join(work, f"probe{i}.json"), json.dumps({"feature_vector": p.tolist(), "top": 1, "threshold": 0.4}))
              for i, p in enumerate(probes)]
    batch_json = write(os.path.join(work, "batch.json"), json.dumps({"feature_vectors": batch.tolist(), "top": 1, "threshold": 0.4}))
    batch_npy = os.path.join(work, "batch.npy")
    np.save(batch_npy, batch)
    enrolls = [write(os.path.join(work, f"enroll{i}.json"), json.dumps({"identity": f"new-{i}", "feature_vector": p.tolist()}))
               for i, p in enumerate(probes)]
    identify_path = "/v1/collections/staff/identify"
    scripts = {"single": wrk_script(work, "single", identify_path, single, "application/json"),
               "batch_npy": wrk_script(work, "batch_npy", identify_path + "?top=1&threshold=0.4", [batch_npy], "application/x-npy"),
               "batch_json": wrk_script(work, "batch_json", identify_path, [batch_json], "application/json"),
               "enroll": wrk_script(work, "enroll", "/v1/collections/staff/faceprints", enrolls, "application/json")}
    size = {"rows": rows, "single": [], "batch": {}}
    print(f"\n{rows:,} x {args.dimension} face-like, float32; wrk {args.seconds} s a run, loopback")

    # In-process first, with nothing else running.
    inprocess = {}
    for c in clients:
        inprocess[c] = run_bench("load", store, "staff", os.path.join(work, "probes.npy"), "--clients", c,
                                 "--seconds", args.seconds, "--batch", args.batch if c == clients[0] else 0)
    # Each wrk run against a fresh server process: work queued by the previous run (a server
    # that falls behind keeps searching for clients that are gone) must not delay the next.
    def fresh(command, script, connections):
        process, url = start(command)
        try:
            return wrk(url, script, connections, args.seconds)
        finally:
            stop(process)
    lineup_command = [LINEUP, "serve", store, "--listen", "127.0.0.1:0"]
    reference_command = [sys.executable, os.path.join(HERE, "reference_server.py"), npy, names]
    lineup = {c: fresh(lineup_command, scripts["single"], c) for c in clients}
    batch_npy_http = fresh(lineup_command, scripts["batch_npy"], 1)
    batch_json_http = fresh(lineup_command, scripts["batch_json"], 1)
    faiss_http = {c: fresh(reference_command, scripts["single"], c) for c in clients}
    faiss_batch_npy = fresh(reference_command, scripts["batch_npy"], 1)

    print(f"{'single-probe identify':<24} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   ratio p99 to in-process")
    for c in clients:
        rows_out = [("in-process (SDK)", inprocess[c]), ("lineup serve", lineup[c]), ("aiohttp + FAISS", faiss_http[c])]
        for label, r in rows_out:
            ratio = r["p99_seconds"] / inprocess[c]["p99_seconds"]
            print(f"{label:<24} {c:>7} {r['requests_per_second']:>9.1f} {r['p50_seconds'] * 1e3:>8.2f} {r['p99_seconds'] * 1e3:>8.2f}   {ratio:.2f}x")
        size["single"].append({"clients": c, "in_process": inprocess[c], "lineup_http": lineup[c], "reference_http": faiss_http[c],
                               "http_over_in_process_p99": lineup[c]["p99_seconds"] / inprocess[c]["p99_seconds"],
                               "lineup_over_reference_rps": lineup[c]["requests_per_second"] / faiss_http[c]["requests_per_second"]})
    in_batch = inprocess[clients[0]]["batch_median_seconds"]
    size["batch"] = {"probes": len(batch), "in_process_seconds": in_batch, "lineup_npy": batch_npy_http,
                     "lineup_json": batch_json_http, "reference_npy": faiss_batch_npy,
                     "npy_over_in_process": batch_npy_http["p50_seconds"] / in_batch,
                     "json_over_in_process": batch_json_http["p50_seconds"] / in_batch}
    print(f"batch of {len(batch)}: in-process {in_batch * 1e3:.1f} ms; lineup serve .npy p50 {batch_npy_http['p50_seconds'] * 1e3:.1f} ms "
          f"({size['batch']['npy_over_in_process']:.2f}x), JSON p50 {batch_json_http['p50_seconds'] * 1e3:.1f} ms "
          f"({size['batch']['json_over_in_process']:.2f}x); aiohttp + FAISS .npy p50 {faiss_batch_npy['p50_seconds'] * 1e3:.1f} ms")

    # Durable enrollments last: they change the store.
    enroll_http = fresh(lineup_command, scripts["enroll"], 8)
    enroll_in = run_bench("enroll", store, "staff", "--threads", 8, "--count", 4000, "--dimension", args.dimension)
    size["enroll"] = {"lineup_http": enroll_http, "in_process": enroll_in,
                      "http_over_in_process_rate": enroll_http["requests_per_second"] / enroll_in["enrollments_per_second"]}
    print(f"durable enrollments, 8 clients: lineup serve {enroll_http['requests_per_second']:.0f}/s "
          f"(p99 {enroll_http['p99_seconds'] * 1e3:.1f} ms), in-process {enroll_in['enrollments_per_second']:.0f}/s "
          f"({size['enroll']['http_over_in_process_rate']:.2f}x)")
    return size


if __name__ == "__main__":
    main()
