#!/usr/bin/env python3
"""options_synthea.py - options for every active problem of the Synthea patients.

Input: JSON lines of `openrx recommend --patient BUNDLE --each-problem` for every bundle (one line
per active problem, "problem" = the Condition's display). Counts the problems (patient x condition)
and the distinct condition displays that get options, and why the others do not:
  covered             at least one option states the condition in full (not partial)
  covered (partial)   options only after leaving words of the problem out ("Chronic sinusitis" ->
                      labels stating "sinusitis"): shown, marked, for the clinician to judge
  situation           a SNOMED CT "(situation)" / "History of …": no condition to treat
  no label            no label's Indications & Usage states it
Usage: python3 bench/options_synthea.py RESULTS.jsonl
"""
import collections
import json
import sys


def status(r):
    o = r.get("options") or {}
    opts = o.get("options") or []
    if not opts:
        return "situation" if "situation" in (o.get("ignored_words") or "") else "no label"
    if any(not x["match"]["partial"] for x in opts):
        return "covered"
    return "covered (partial)"


def main():
    rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
    per = collections.Counter()
    disp = {}
    patients = set()
    lat = []
    for r in rows:
        s = status(r)
        per[s] += 1
        disp.setdefault(r["problem"], s)
        patients.add(r["patient"])
        lat.append(r["timing"]["retrieval_s"] * 1000)
    by_disp = collections.Counter(disp.values())
    print("%d patients, %d active problems (%d distinct conditions)" % (len(patients), len(rows), len(disp)))
    print("| status | problems | distinct conditions |")
    print("|---|---|---|")
    for s in ("covered", "covered (partial)", "situation", "no label"):
        print("| %s | %d | %d |" % (s, per[s], by_disp[s]))
    for s in ("covered (partial)", "situation", "no label"):
        names = sorted(k for k, v in disp.items() if v == s)
        if names:
            print("%s: %s" % (s, "; ".join(names)))
    lat.sort()
    if lat:
        print("options + evidence per problem: p50 %.1f ms, p95 %.1f ms (first call of each patient builds the index)"
              % (lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.95 * len(lat)))]))
    print(json.dumps({"patients": len(patients), "problems": len(rows), "conditions": len(disp),
                      "problems_by_status": dict(per), "conditions_by_status": dict(by_disp)}))


if __name__ == "__main__":
    main()
