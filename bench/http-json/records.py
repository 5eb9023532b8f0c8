"""The benchmark's records: every value is a function of (SEED, id) alone,
so the pages are the same on every machine, and verify.py rebuilds each
expected record from its id instead of storing them.

Fields (a realistic API object):
  id          integer, 1..RECORDS
  name        text: words with non-ASCII letters (café, naïve, 日本語, 🚀), quotes, a backslash
  email       text; ~5 % the empty string ""
  note        nullable text: ~10 % null, ~5 % "", else words (some with a newline)
  score       float, exact as its JSON text (up to 4 decimals, some negative, some whole: 12.0)
  price       decimal-looking text "1234.56" (a string, as money often is)
  active      bool
  quantity    integer, 0..999,999 (a plain count; ~3 % a large value past 2^31)
  updated_at  RFC 3339 text: whole seconds with Z, milliseconds with Z, or a +05:30 / -07:00 offset
  address     object {"city", "zip", "geo": {"lat", "lng"}} (~5 % null)
  tags        array of 0-4 strings"""

SEED = 13
M64 = (1 << 64) - 1
BASE = 1704067200  # 2024-01-01T00:00:00Z
WORDS = ["alpha", "beta", "gamma", "delta", "order", "shipment", "customer", "café", "naïve",
         "smörgåsbord", "日本語", "Ünïcødé", "🚀", "O'Brien", 'say "hi"', "back\\slash", "tab\there"]
CITIES = ["Berlin", "São Paulo", "Zürich", "Kraków", "東京", "New York", "Reykjavík", "Lagos"]
TAGS = ["new", "vip", "b2b", "returning", "wholesale", "eu", "us", "apac", "früh", "夜"]
OFFSETS = [("Z", 0), ("+05:30", 19800), ("-07:00", -25200)]


def mix(i):
    """splitmix64's finaliser: well-spread bits from (SEED, id)."""
    x = ((i ^ (SEED << 40)) * 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def words(h, n):
    return " ".join(WORDS[(h >> (5 * j)) % len(WORDS)] for j in range(n))


def rfc3339(epoch, frac_ms, off):
    """(text, UTC epoch in microseconds) of an instant written with offset `off`."""
    import time
    sign, secs = off
    t = time.gmtime(epoch + secs)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", t)
    if frac_ms is not None:
        text += ".%03d" % frac_ms
    return text + sign, epoch * 1_000_000 + (frac_ms or 0) * 1000


def record(i):
    """The record with id i, as the dict the server renders."""
    h = mix(i)
    g = mix(i + (1 << 50))
    k = h % 20
    note = None if k < 2 else "" if k == 2 else words(g >> 7, 2 + g % 5) + ("\nsecond line" if k == 3 else "")
    s = (g >> 23) % 20_000_000 - 2_000_000
    score = float(s // 10_000) if (g >> 45) % 10 == 0 else s / 10_000
    cents = (h >> 17) % 10_000_000
    kind = (h >> 40) % 10
    updated, _ = rfc3339(BASE + i * 7 + (h >> 50) % 5, (h >> 30) % 1000 if kind >= 6 else None,
                         OFFSETS[0] if kind < 8 else OFFSETS[1 + kind % 2])
    return {
        "id": i,
        "name": words(h >> 5, 1 + (h >> 33) % 4),
        "email": "" if (h >> 8) % 20 == 0 else "user%d@example.com" % i,
        "note": note,
        "score": score,
        "price": "%d.%02d" % (cents // 100, cents % 100),
        "active": bool((h >> 12) & 1),
        "quantity": (g >> 3) % 1_000_000 + ((1 << 33) if (g >> 60) % 32 == 0 else 0),
        "updated_at": updated,
        "address": None if (g >> 13) % 20 == 0 else {
            "city": CITIES[(g >> 17) % len(CITIES)],
            "zip": "%05d" % ((g >> 21) % 100000),
            "geo": {"lat": ((g >> 25) % 1_800_000 - 900_000) / 10_000,
                    "lng": ((g >> 27) % 3_600_000 - 1_800_000) / 10_000},
        },
        "tags": [TAGS[(h >> (44 + 4 * j)) % len(TAGS)] for j in range((h >> 2) % 5)],
    }


def updated_at_micros(i):
    """The UTC instant of record i's updated_at, in microseconds since the epoch."""
    h = mix(i)
    kind = (h >> 40) % 10
    return rfc3339(BASE + i * 7 + (h >> 50) % 5, (h >> 30) % 1000 if kind >= 6 else None,
                   OFFSETS[0] if kind < 8 else OFFSETS[1 + kind % 2])[1]
