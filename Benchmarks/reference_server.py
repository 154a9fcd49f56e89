#!/usr/bin/env python3
"""The minimal matching server a user might write instead of `lineup serve`: aiohttp and a FAISS
IndexFlatIP over the same vectors, answering the same identify route and body (JSON
feature_vector / feature_vectors, or a .npy body) with the same answer shape. The search runs
in a thread pool so the event loop keeps accepting (FAISS releases the GIL while it searches).
Nothing is durable: it holds the gallery in memory only.

  python3 Benchmarks/reference_server.py VECTORS.npy IDENTITIES.txt [--port 0]

Prints `listening on http://127.0.0.1:PORT` once bound.
"""
import argparse, asyncio, io, json, sys, uuid

import faiss
import numpy as np
from aiohttp import web


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vectors")
    parser.add_argument("identities")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    vectors = np.load(args.vectors).astype(np.float32)
    faiss.normalize_L2(vectors)
    with open(args.identities) as f:
        identities = f.read().split("\n")[: len(vectors)]
    uuids = [str(uuid.uuid4()) for _ in range(len(vectors))]
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)

    def search(probes, top, threshold):
        probes = np.ascontiguousarray(probes, dtype=np.float32)
        faiss.normalize_L2(probes)
        scores, rows = index.search(probes, top)
        return [{"candidates": [{"uuid": uuids[r], "identity": identities[r], "similarity": float(s),
                                 "match_probability": 1.0}
                                for s, r in zip(score_row, row_row) if r >= 0 and s >= threshold]}
                for score_row, row_row in zip(scores, rows)]

    async def identify(request):
        body = await request.read()
        if request.content_type == "application/x-npy":
            probes = np.load(io.BytesIO(body))
            top = int(request.query.get("top", 1))
            threshold = float(request.query.get("threshold", 0.4))
        else:
            document = json.loads(body)
            probes = np.array([document["feature_vector"]] if "feature_vector" in document else document["feature_vectors"],
                              dtype=np.float32)
            top = int(document.get("top", 1))
            threshold = float(document.get("threshold", 0.4))
        results = await asyncio.get_running_loop().run_in_executor(None, search, probes, top, threshold)
        return web.json_response({"results": results})

    app = web.Application(client_max_size=256 << 20)
    app.router.add_post("/v1/collections/{name}/identify", identify)

    async def start():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", args.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(start())


if __name__ == "__main__":
    main()
