"""Renders the API's pages once: OUT/pages.bin (every page's response body,
back to back), OUT/pages.idx (page N's body is bytes idx[N-1]..idx[N]) and
OUT/meta.json. server.py serves them from a memory map, so the server does
no JSON work while a tool reads.

Usage: python3 gen.py OUT RECORDS PER_PAGE
A body: {"data": [PER_PAGE records of records.py], "meta": {"page": N, "total_pages": T}},
UTF-8 (non-ASCII as is, as most APIs send it), compact separators."""
import array, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from records import SEED, record  # noqa: E402

out, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pages = -(-n // per)
os.makedirs(out, exist_ok=True)
idx = array.array("Q", [0])
t0 = time.time()
with open(os.path.join(out, "pages.bin.tmp"), "wb") as fh:
    for p in range(1, pages + 1):
        data = [record(i) for i in range((p - 1) * per + 1, min(n, p * per) + 1)]
        body = json.dumps({"data": data, "meta": {"page": p, "total_pages": pages}},
                          ensure_ascii=False, separators=(",", ":")).encode()
        fh.write(body)
        idx.append(idx[-1] + len(body))
        if p % 1000 == 0:
            print("  page %d/%d (%.0f s)" % (p, pages, time.time() - t0), flush=True)
with open(os.path.join(out, "pages.idx"), "wb") as fh:
    idx.tofile(fh)
os.replace(os.path.join(out, "pages.bin.tmp"), os.path.join(out, "pages.bin"))
with open(os.path.join(out, "meta.json"), "w") as fh:
    json.dump({"records": n, "per_page": per, "pages": pages, "seed": SEED, "bytes": idx[-1]}, fh)
print("%d records in %d pages, %.1f MiB of JSON, in %.0f s" % (n, pages, idx[-1] / 2**20, time.time() - t0))
