"""Prints the results CSV as a table (records/s, pages/s, MiB/s from the
data set and seconds; × dlt = records/s over dlt's in the same file), then
the targets of issue 13: Tributary ≥ 3 × dlt's records/s, peak RSS < 256 MiB."""
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))


def rate(r):
    s = float(r["seconds"] or "nan")
    return int(r["records"]) / s if s == s and s > 0 else None


dlt = next((rate(r) for r in rows if r["contender"] == "dlt" and r["check"].startswith("ok")), None)
print("| contender | records | pages | seconds | records/s | pages/s | MiB/s | peak RSS MiB | check | load1 | × dlt |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
for r in rows:
    v = rate(r)
    s = float(r["seconds"]) if v else None
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["contender"], "{:,}".format(int(r["records"])), "{:,}".format(int(r["pages"])),
        "%.1f" % s if v else "-", "{:,.0f}".format(v) if v else "-",
        "{:,.0f}".format(int(r["pages"]) / s) if v else "-",
        "%.1f" % (int(r["bytes"]) / 2**20 / s) if v else "-",
        r["peak_rss_mib"] or "-", r["check"], r["load1"],
        "%.1f" % (v / dlt) if v and dlt else "-"))

trib = next((r for r in rows if r["contender"] == "tributary"), None)
print()
if trib is None or dlt is None or not trib["check"].startswith("ok") or rate(trib) is None:
    print("targets: not evaluated (tributary and dlt must both finish and verify ok)")
else:
    x, rss = rate(trib) / dlt, int(trib["peak_rss_mib"])
    print("target records/s ≥ 3 × dlt: %.1f × — %s" % (x, "MET" if x >= 3 else "NOT MET"))
    print("target peak RSS < 256 MiB: %d MiB — %s" % (rss, "MET" if rss < 256 else "NOT MET"))
