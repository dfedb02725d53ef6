"""Print the results in bench/results/ as a Markdown table (for docs/benchmarks.md).

    python bench/report.py [startup log train render scale]

Reads each bench's own JSON (the latest run of that bench, alone or through run_all).
"""

from __future__ import annotations

import json
import sys

import common


def table(rows):
    out = ["| path | measure | animsup | baseline | ratio | target | met |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        unit = f" {r['unit']}" if r.get("unit") and r.get("value") is not None else ""
        base = common.fmt(r.get("baseline"))
        if r.get("baseline") is not None and r.get("baseline_name"):
            base = f"{base} ({r['baseline_name']})"
        ratio = common.fmt(r.get("ratio")) + ("x" if r.get("ratio") is not None else "")
        met = {True: "met", False: "**not met**", None: "-"}[r.get("met")]
        out.append(
            f"| {r['path']} | {r['measure']} | {common.fmt(r.get('value'))}{unit} | {base} | {ratio} | "
            f"{r.get('target') or '-'} | {met} |"
        )
    return "\n".join(out)


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or ["startup", "log", "train", "render"]
    for name in names:
        path = common.RESULTS / f"{name}.json"
        try:
            doc = json.load(open(path))
        except FileNotFoundError:
            print(f"<!-- no {path} -->\n")
            continue
        m = doc["machine"]
        load = ", ".join(f"{x:.1f}" for x in m["loadavg"]) if m.get("loadavg") else "?"
        print(f"**{name}** ({doc['date']}, {'quick' if doc['quick'] else 'default'} run, load average {load})\n")
        print(table(doc["rows"]))
        print()


if __name__ == "__main__":
    main()
