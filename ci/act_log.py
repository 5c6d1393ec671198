#!/usr/bin/env python3
"""Read act's --json log on stdin: print it readably, keep the raw lines in RAW, and end with one line per
job (result, wall time from its first to its last log line). Standard library only.

usage: act ... --json | act_log.py RAW.jsonl
"""
import json
import sys
from datetime import datetime


def when(s: str) -> datetime | None:
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def main(raw_path: str) -> int:
    jobs: dict[str, dict] = {}
    with open(raw_path, "w") as raw:
        for line in sys.stdin:
            raw.write(line)
            raw.flush()
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                print(line, end="", flush=True)
                continue
            job = e.get("job") or e.get("jobID") or "?"
            msg = str(e.get("msg", "")).rstrip("\n")
            print(f"[{job}] {msg}", flush=True)
            t = when(e.get("time"))
            j = jobs.setdefault(job, {"first": t, "last": t, "result": None})
            j["last"] = t or j["last"]
            if e.get("jobResult"):
                j["result"] = e["jobResult"]
    print("\nact jobs:")
    for job, j in jobs.items():
        secs = (j["last"] - j["first"]).total_seconds() if j["first"] and j["last"] else float("nan")
        print(f"  {job:<40} {j['result'] or '?':<8} {secs:7.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
