#!/usr/bin/env python3
"""compare_with_cli.py CLI HOST [ARGS...]: runs `CLI score ARGS` and `HOST ARGS`
(a host of the C ABI, such as examples/c/ckscore) on the same inputs and
checks that every pending pod lands on the same node with the same total and
per-plugin scores. The host prints one JSON object per line:
{"pod", "selected", "total", "feasible", "scores"}."""
import json
import subprocess
import sys


def main() -> int:
    cli, host, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    expected = json.loads(subprocess.run([cli, "score", *args], check=True,
                                         capture_output=True, text=True).stdout)["results"]
    lines = subprocess.run([host, *args], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    got = [json.loads(line) for line in lines if line.strip()]
    if len(got) != len(expected):
        print(f"{host}: {len(got)} pods, the CLI scored {len(expected)}", file=sys.stderr)
        return 1
    failures = 0
    for e, g in zip(expected, got):
        want = {"pod": e["pod"], "selected": e["selected"], "total": 0, "feasible": e["feasibleNodes"],
                "scores": {}}
        if e["selected"] is not None:
            node = next(n for n in e["nodes"] if n["name"] == e["selected"])
            want["total"], want["scores"] = node["total"], node["scores"]
        if g != want:
            print(f"mismatch for {e['pod']}:\n  cli:  {want}\n  host: {g}", file=sys.stderr)
            failures += 1
    if failures:
        return 1
    print(f"{len(got)} pods placed exactly as `carbonkube score` places them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
