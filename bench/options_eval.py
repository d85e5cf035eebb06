#!/usr/bin/env python3
"""options_eval.py - score the options and the evidence on the indication dev set.

Input: the dev set (bench/indications_dev.tsv: query, kind, accepted set ids) and the JSON lines
that `openrx recommend --batch` printed for the same queries, in order.

For each query with accepted labels in the knowledge base:
  evidence hit      the evidence holds an indicated drug's label: an evidence item whose set id is
                    accepted, or that is about an option whose stating labels include an accepted one
  candidate recall  accepted labels among the options' stating labels (label_set_ids) / accepted
  recall, named     the same over the accepted labels whose drug the knowledge base names (an
                    indication-only text whose drug no source names cannot be an option)
  channel share     evidence items from the options' labels (indication, dosing, safety) or the
                    interaction channel / all evidence items
  choice precision  options offered as the choice whose stating labels include an accepted one /
                    options offered (pessimistic: a label stating a synonym the phrase does not
                    contain counts as wrong)
  latency           options + screening + channels (timing.retrieval_s), the first query left out
                    (it builds the sentence index)
Prints a table and one JSON line of totals.

Usage: python3 bench/options_eval.py DEV.tsv RESULTS.jsonl [--by-kind]
"""
import json
import sys


def load_dev(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            acc = set(a for a in f[2].split(",") if a)
            named = set(a for a in f[3].split(",") if a) if len(f) > 3 else acc
            rows.append((f[0], f[1], acc, named))
    return rows


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def score(dev, res):
    out = {"queries": 0, "evidence_hit": 0, "recall_num": 0, "recall_den": 0, "named_num": 0, "named_den": 0,
           "items": 0, "items_channel": 0, "lat": [], "misses": [],
           "choice": 0, "choice_ok": 0}
    for i, ((q, kind, acc, named), r) in enumerate(zip(dev, res)):
        if r.get("indication") != q:
            raise SystemExit("results out of order at %d: %r vs %r" % (i, r.get("indication"), q))
        opts = (r.get("options") or {}).get("options") or []
        stating = set()
        opt_accepted = []
        for o in opts:
            ids = set(o.get("label_set_ids") or [])
            stating |= ids
            opt_accepted.append(bool(ids & acc))
            if o.get("in_choice"):
                out["choice"] += 1
                out["choice_ok"] += bool(ids & acc)
        ev = r.get("evidence") or []
        hit = False
        for e in ev:
            sid = e["citation"].split("#")[0]
            if sid in acc:
                hit = True
        # evidence about an accepted option drug (other labels of the same drug count)
        for e in ev:
            if e.get("channel") in ("indication", "dosing", "safety", "interaction"):
                sid = e["citation"].split("#")[0]
                for k, o in enumerate(opts):
                    if sid in (o.get("label_set_ids") or []) and opt_accepted[k]:
                        hit = True
        out["queries"] += 1
        out["evidence_hit"] += hit
        out["recall_num"] += len(acc & stating)
        out["recall_den"] += len(acc)
        out["named_num"] += len(named & stating)
        out["named_den"] += len(named)
        out["items"] += len(ev)
        out["items_channel"] += sum(1 for e in ev if e.get("channel") in ("indication", "dosing", "safety", "interaction"))
        if i > 0:
            out["lat"].append(r["timing"]["retrieval_s"] * 1000.0)
        if not hit:
            out["misses"].append(q)
    return out


def report(name, s):
    n = max(1, s["queries"])
    return {
        "set": name,
        "queries": s["queries"],
        "evidence_has_indicated_label": round(s["evidence_hit"] / n, 3),
        "candidate_recall": round(s["recall_num"] / max(1, s["recall_den"]), 3),
        "candidate_recall_named": round(s["named_num"] / max(1, s["named_den"]), 3),
        "choice_precision": round(s["choice_ok"] / max(1, s["choice"]), 3),
        "evidence_from_options_or_interactions": round(s["items_channel"] / max(1, s["items"]), 3),
        "evidence_items_per_query": round(s["items"] / n, 2),
        "latency_ms_p50": round(pct(s["lat"], 50), 1),
        "latency_ms_p95": round(pct(s["lat"], 95), 1),
        "misses": s["misses"][:10],
    }


def main():
    dev = load_dev(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        res = [json.loads(l) for l in f if l.strip()]
    if len(res) != len(dev):
        raise SystemExit("%d results for %d queries" % (len(res), len(dev)))
    rows = [report("all", score(dev, res))]
    if "--by-kind" in sys.argv:
        for kind in ("phrase", "question", "long"):
            sel = [i for i, d in enumerate(dev) if d[1] == kind]
            if not sel:
                continue
            rows.append(report(kind, score([dev[i] for i in sel], [res[i] for i in sel])))
    print("| set | queries | evidence has an indicated label | candidate recall | recall, drug named | choice precision | evidence from options/interactions | items/query | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.1f | %.1f |" % (
            r["set"], r["queries"], r["evidence_has_indicated_label"], r["candidate_recall"], r["candidate_recall_named"],
            r["choice_precision"],
            r["evidence_from_options_or_interactions"], r["evidence_items_per_query"],
            r["latency_ms_p50"], r["latency_ms_p95"]))
    for r in rows:
        if r["misses"]:
            print("misses (%s): %s" % (r["set"], "; ".join(r["misses"])))
    print(json.dumps(rows[0]))


if __name__ == "__main__":
    main()
