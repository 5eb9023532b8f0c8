"""Writes ROWS deterministic CSV rows split into FILES files under OUT, and
OUT/expected.json: the checksums verify.py compares each loaded table with.

Usage: python3 gen.py OUT ROWS FILES

Columns: id, customer_id (integers), amount (decimal text "1234.56"),
status (6 short values), note (text with commas and quotes; 5 % an empty
unquoted field, meant as NULL, 5 % a quoted "" meaning ''), created_at (ISO
8601 UTC with Z, whole seconds). Every value is a function of id alone, so
the files are the same on every machine and for every split."""
import json, os, sys, time

out, rows, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
STATUSES = ["new", "paid", "shipped", "delivered", "cancelled", "refunded"]
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "café", "naïve", "smörgåsbord", "order", "shipment", "customer"]
BASE = 1704067200  # 2024-01-01T00:00:00Z


M64 = (1 << 64) - 1


def mix(i):
    """splitmix64's finaliser: well-spread bits from a row's id."""
    x = (i * 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def note(h):
    """(CSV field, value or None)."""
    k = (h >> 11) % 20
    if k == 0:
        return "", None                       # empty, unquoted: NULL
    if k == 1:
        return '""', ""                        # quoted empty: ''
    n = 5 + (h >> 16) % 8
    words = [WORDS[(h >> (20 + j * 5)) % len(WORDS)] for j in range(n)]
    if k < 8:                                  # plain words
        v = " ".join(words)
    elif k < 14:                               # commas: quoted
        v = ", ".join(words)
    else:                                      # quotes (doubled) and a comma
        v = 'said "%s", then %s' % (words[0], " ".join(words[1:]))
    field = v if k < 8 else '"' + v.replace('"', '""') + '"'
    return field, v


def main():
    os.makedirs(out, exist_ok=True)
    exp = dict(rows=rows, sum_id=0, sum_customer_id=0, sum_amount_cents=0, status_distinct=0,
               sum_status_length=0, sum_created_epoch=0, note_null=0, note_empty=0,
               sum_note_length=0, bytes=0, files=files)
    statuses = set()
    per = -(-rows // files)
    t0 = time.time()
    fmt = time.strftime
    for f in range(files):
        lo, hi = f * per + 1, min(rows, (f + 1) * per)
        path = os.path.join(out, "part-%04d.csv" % f)
        with open(path + ".tmp", "w", encoding="utf-8", newline="") as fh:
            buf = ["id,customer_id,amount,status,note,created_at\n"]
            for i in range(lo, hi + 1):
                h = mix(i)
                cust = 1 + h % 100000
                cents = (h >> 7) % 500000
                status = STATUSES[(h >> 3) % 6]
                nf, nv = note(h)
                epoch = BASE + i * 3
                buf.append("%d,%d,%d.%02d,%s,%s,%s\n" % (
                    i, cust, cents // 100, cents % 100, status, nf,
                    fmt("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))))
                exp["sum_id"] += i
                exp["sum_customer_id"] += cust
                exp["sum_amount_cents"] += cents
                statuses.add(status)
                exp["sum_status_length"] += len(status)
                exp["sum_created_epoch"] += epoch
                if nv is None:
                    exp["note_null"] += 1
                else:
                    exp["note_empty"] += nv == ""
                    exp["sum_note_length"] += len(nv)
                if len(buf) >= 10000:
                    fh.write("".join(buf)); buf.clear()
            fh.write("".join(buf))
        os.replace(path + ".tmp", path)
        exp["bytes"] += os.path.getsize(path)
        print("  %s: rows %d..%d, %.1f MiB (%.0f s)" % (path, lo, hi, os.path.getsize(path) / 2**20,
                                                      time.time() - t0), flush=True)
    exp["status_distinct"] = len(statuses)
    with open(os.path.join(out, "expected.json"), "w") as fh:
        json.dump(exp, fh, indent=1)


main()
