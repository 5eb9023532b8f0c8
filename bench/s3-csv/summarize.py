"""Prints the results CSV as a table: rows/s and MiB/s from rows, bytes and seconds."""
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))
print("| contender | destination | rows | seconds | rows/s | MiB/s | peak RSS MiB | check | load1 |")
print("|---|---|---:|---:|---:|---:|---:|---|---:|")
for r in rows:
    s = float(r["seconds"] or "nan")
    ok = s == s and s > 0
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["contender"], r["destination"], "{:,}".format(int(r["rows"])),
        "%.1f" % s if ok else "-", "{:,.0f}".format(int(r["rows"]) / s) if ok else "-",
        "%.1f" % (int(r["bytes"]) / 2**20 / s) if ok else "-",
        r["peak_rss_mib"] or "-", r["check"], r["load1"]))
