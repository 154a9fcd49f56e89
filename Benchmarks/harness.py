"""What the benchmark harnesses share: where the release programs are, how a `lineup-bench`
operation is run and its JSON line read, and where results are written."""
import json, os, sqlite3, subprocess, sys, time, uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH = os.path.join(ROOT, ".build", "release", "lineup-bench")
LINEUP = os.path.join(ROOT, ".build", "release", "lineup")


def run_bench(*args, env=None):
    """Runs `lineup-bench ARGS…` and returns the JSON object its last line prints."""
    out = subprocess.run([BENCH, *map(str, args)], check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def save_results(name, results):
    """Writes `results` to Benchmarks/results/NAME.json."""
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"{name}.json"), "w") as f:
        json.dump(results, f, indent=2)


def face_like(rows, dimension, templates_per_identity=4, seed=11):
    """Face-like unit vectors: identities are clusters around centres drawn from an anisotropic
    Gaussian (a decaying eigen-spectrum), each template a noisy copy of its centre. Returns the
    (rows, dimension) float32 array and each row's identity."""
    rng = np.random.default_rng(seed)
    spectrum = (1.0 / np.sqrt(1.0 + np.arange(dimension))).astype(np.float32)
    identities = max(1, rows // templates_per_identity)
    centres = rng.standard_normal((identities, dimension), dtype=np.float32) * spectrum
    owner = np.arange(rows) // templates_per_identity % identities
    vectors = centres[owner] + 0.5 * rng.standard_normal((rows, dimension), dtype=np.float32) * spectrum
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), [f"person-{i}" for i in owner]


def timed(command):
    """Runs `command`; returns (seconds, peak resident bytes of the program).

    The peak is the program's own VmHWM, read from /proc while it runs (every 5 ms, and once
    more at the end): the child's ru_maxrss would count this harness's pages, which a forked
    child holds until it execs."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed ({process.returncode})")
    return elapsed, peak


def sqlite_faceprints(path, vectors, identities, journal_mode="DELETE"):
    """An SQLite database at `path` holding the same rows as a Lineup collection (uuid,
    identity, float32 vector blob), inserted in one transaction with synchronous=FULL.
    Returns (the open connection, seconds the insert took)."""
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA journal_mode={journal_mode}")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE faceprints (uuid TEXT PRIMARY KEY, identity TEXT NOT NULL, vector BLOB NOT NULL)")
    start = time.perf_counter()
    with db:
        db.executemany("INSERT INTO faceprints VALUES (?, ?, ?)",
                       ((str(uuid.uuid4()), identities[i], vectors[i].tobytes()) for i in range(len(identities))))
    return db, time.perf_counter() - start


def write_face_like_inputs(work, rows, dimension):
    """Writes WORK/vectors.npy and WORK/identities.txt of `face_like(rows, dimension)`, what
    `lineup import` reads; returns (vectors, identities, npy path, identities path)."""
    vectors, identities = face_like(rows, dimension)
    npy, names = os.path.join(work, "vectors.npy"), os.path.join(work, "identities.txt")
    np.save(npy, vectors)
    with open(names, "w") as f:
        f.write("\n".join(identities) + "\n")
    return vectors, identities, npy, names
