"""Compares a loaded table with DATA/expected.json (written by gen.py).

Usage: python verify.py sqlite FILE TABLE | postgres URL SCHEMA.TABLE

Prints one line: "ok", or "MISMATCH …", then how NULL (an empty unquoted
field) and '' (a quoted "") arrived in `note`; exits 1 on a mismatch. Every
check but the NULL/'' split of `note` must hold: row count, sums of id and
customer_id, the exact sum of amount in cents, status (distinct count, total
length), the sum of created_at as epoch seconds, the total length of note.
The expressions accept each tool's column types (amount as text, REAL,
double precision or numeric; created_at as ISO text or a timestamp)."""
import json, os, sys

kind, where, table = sys.argv[1:4]
exp = json.load(open(os.path.join(os.environ["DATA"], "expected.json")))
KEYS = ["rows", "sum_id", "sum_customer_id", "sum_amount_cents", "status_distinct",
        "sum_status_length", "sum_created_epoch", "sum_note_length", "note_null", "note_empty"]
if kind == "sqlite":
    import sqlite3
    db = sqlite3.connect(where)
    sql = f"""select count(*), sum(id), sum(customer_id), sum(cast(round(amount * 100) as integer)),
      count(distinct status), sum(length(status)), sum(cast(strftime('%s', created_at) as integer)),
      coalesce(sum(length(note)), 0), sum(note is null), sum(note = '') from {table}"""
else:
    import psycopg2
    db = psycopg2.connect(where.replace("postgresql://", "postgres://"))
    db.cursor().execute("set timezone = 'UTC'")
    sql = f"""select count(*), sum(id), sum(customer_id), sum(round(amount::numeric * 100)),
      count(distinct status), sum(length(status)), sum(extract(epoch from created_at::timestamptz)),
      coalesce(sum(length(note)), 0), count(*) filter (where note is null),
      count(*) filter (where note = '') from {table}"""
try:
    cur = db.cursor()
    cur.execute(sql)
    got = dict(zip(KEYS, (int(v or 0) for v in cur.fetchone())))
except Exception as e:  # a missing table or column is a failed run, said in one line
    print("MISMATCH: %s" % str(e).splitlines()[0])
    sys.exit(1)
bad = ["%s=%d (expected %d)" % (k, got[k], exp[k]) for k in KEYS[:8] if got[k] != exp[k]]
n, e = exp["note_null"], exp["note_empty"]
if (got["note_null"], got["note_empty"]) == (n, e):
    note = "note NULL and '' kept apart"
elif (got["note_null"], got["note_empty"]) == (n + e, 0):
    note = "note '' read as NULL"
elif (got["note_null"], got["note_empty"]) == (0, n + e):
    note = "note NULL read as ''"
else:
    note = "note NULL=%d ''=%d (expected %d/%d)" % (got["note_null"], got["note_empty"], n, e)
print(("MISMATCH " + " ".join(bad) if bad else "ok") + "; " + note)
sys.exit(1 if bad else 0)
