"""`python -m lineup [--faceprints N] [--store PATH]`: the demo through the Python binding — a
store (temporary unless --store), N synthetic Faceprints of N/4 people enrolled in one batch,
then probes of enrolled people and of strangers identified one by one and as a batch."""
import argparse
import shutil
import tempfile
import time

import numpy as np

import lineup


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m lineup")
    parser.add_argument("--faceprints", type=int, default=20000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--store")
    args = parser.parse_args()
    directory = None if args.store else tempfile.mkdtemp(prefix="lineup-demo-")
    store = args.store or f"{directory}/store"
    try:
        rng = np.random.default_rng(7)
        people = max(1, args.faceprints // 4)
        centres = rng.standard_normal((people, args.dimension)).astype(np.float32)
        owners = np.arange(args.faceprints) % people
        vectors = centres[owners] + 0.4 * rng.standard_normal((args.faceprints, args.dimension)).astype(np.float32)
        sdk = lineup.SDK(lineup.ConfigurationOptions())
        for status in (sdk.create_database_connection(store), sdk.create_load_collection("demo")):
            if status != lineup.ERRORCODE.NO_ERROR:
                print(f"error: {status.name}: {lineup.last_error_message()}")
                return 1
        start = time.perf_counter()
        status, uuids = sdk.enroll_faceprints(vectors, [f"person-{i}" for i in owners])
        enrolled = time.perf_counter() - start
        if status != lineup.ERRORCODE.NO_ERROR:
            print(f"error: {status.name}: {lineup.last_error_message()}")
            return 1
        print(f"store {store}: enrolled {len(uuids)} Faceprints of {people} people in {enrolled:.2f} s (one durable batch)")
        probes = np.vstack([centres[:50] + 0.4 * rng.standard_normal((50, args.dimension)).astype(np.float32),
                            rng.standard_normal((50, args.dimension)).astype(np.float32)])
        start = time.perf_counter()
        right = 0
        strangers_refused = 0
        for index, probe in enumerate(probes):
            status, found, candidate = sdk.identify_top_candidate(lineup.Faceprint(probe), threshold=0.4)
            if index < 50 and found and candidate.identity == f"person-{index}":
                right += 1
            if index >= 50 and not found:
                strangers_refused += 1
        single = (time.perf_counter() - start) / len(probes)
        start = time.perf_counter()
        status, results = sdk.identify(probes, top=1, threshold=0.4)
        batch = (time.perf_counter() - start) / len(probes)
        print(f"enrolled people found: {right}/50; strangers refused: {strangers_refused}/50")
        print(f"identify_top_candidate: {single * 1e3:.2f} ms a probe; identify (batch of {len(probes)}): {batch * 1e3:.2f} ms a probe")
        return 0
    finally:
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
