"""Compares EVERY row of a loaded SQLite table with the generator
(records.py), value by value: no checksums, no counts alone.

Usage: python verify.py DB_FILE TABLE    (RECORDS from the environment)

Prints one line, "ok: N rows, every value equal", or "MISMATCH …" with,
per column, how many rows differ and the first one (id, got, expected);
exits 1 on any difference. What counts as equal, per field:
  id, quantity   the same integer (SQLite INTEGER; exact text digits also pass)
  name, email,   the same text, byte for byte; NULL and '' are distinct
  note, price    (price must stay the text "1234.56", not a number)
  score          the same IEEE double as the JSON text's (REAL, or text that parses to it)
  active         1/0 (SQLite has no bool), or the text true/false
  updated_at     the same instant to the microsecond: ISO 8601 text with Z or an
                 offset, or offset-less (read as UTC: dlt's DATETIME)
  address, tags  JSON text that parses to the same value; JSON null must be SQL NULL
Rows missing, extra or duplicated (by id) are counted too."""
import datetime as dt, json, math, os, sqlite3, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from records import record, updated_at_micros  # noqa: E402

path, table = sys.argv[1], sys.argv[2]
n = int(os.environ["RECORDS"])
FIELDS = ["id", "name", "email", "note", "score", "price", "active", "quantity", "updated_at",
          "address", "tags"]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def same_int(got, exp):
    return (type(got) is int and got == exp) or (type(got) is str and got == str(exp))


def same_text(got, exp):
    return type(got) is type(exp) and got == exp  # str == str, or None is None


def same_float(got, exp):
    if type(got) is str:
        try:
            got = float(got)
        except ValueError:
            return False
    return type(got) in (int, float) and float(got) == exp


def same_bool(got, exp):
    return got in ((1, "true") if exp else (0, "false")) and type(got) is not float


def micros(text):
    t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    d = t - EPOCH
    return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds


def same_instant(got, i):
    try:
        return type(got) is str and micros(got) == updated_at_micros(i)
    except ValueError:
        return False


def same_json(got, exp):
    if exp is None:
        return got is None
    try:
        return type(got) is str and json.loads(got) == exp
    except ValueError:
        return False


CHECK = {"id": same_int, "quantity": same_int, "score": same_float, "active": same_bool,
         "address": same_json, "tags": same_json}

try:
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    cols = [r[1] for r in db.execute('pragma table_info("%s")' % table)]
    missing_cols = [f for f in FIELDS if f not in cols]
    if not cols or missing_cols:
        print("MISMATCH: table %s in %s lacks columns %s (has %s)" % (table, path, missing_cols, cols))
        sys.exit(1)
    cur = db.execute('select %s from "%s" order by id' % (", ".join('"%s"' % f for f in FIELDS), table))
except sqlite3.Error as e:
    print("MISMATCH: %s" % e)
    sys.exit(1)

bad = {f: [0, None] for f in FIELDS}     # column → [rows that differ, first (id, got, expected)]
extra = dup = rows = 0
want, prev = 1, None
missing = []
for row in cur:
    rows += 1
    i = row[0]
    if i == prev:
        dup += 1
        continue
    prev = i
    if type(i) is not int or not 1 <= i <= n:
        extra += 1
        continue
    if i > want:
        missing.append((want, i - 1))
    want = i + 1
    exp = record(i)
    for f, got in zip(FIELDS, row):
        ok = same_instant(got, i) if f == "updated_at" else CHECK.get(f, same_text)(got, exp[f])
        if not ok:
            b = bad[f]
            b[0] += 1
            if b[1] is None:
                b[1] = (i, got, exp[f])
if want <= n:
    missing.append((want, n))

problems = ["%s: %d rows differ, first id %d: got %r, expected %r" % (f, b[0], *b[1])
            for f, b in bad.items() if b[0]]
n_missing = sum(hi - lo + 1 for lo, hi in missing)
if n_missing:
    problems.append("%d ids missing (first %d..%d)" % (n_missing, *missing[0]))
if extra:
    problems.append("%d rows with an unexpected id" % extra)
if dup:
    problems.append("%d duplicate ids" % dup)
if problems:
    print("MISMATCH (%d rows read): %s" % (rows, "; ".join(problems)))
    sys.exit(1)
print("ok: %d rows, every value equal" % rows)
