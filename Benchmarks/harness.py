"""What the benchmark harnesses share: where the release programs are, how a `lineup-bench`
operation is run and its JSON line read, and where results are written."""
import json, os, subprocess

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
