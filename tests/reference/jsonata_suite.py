#!/usr/bin/env python3
"""Runs jsonata-js's language-neutral test suite through a `sandstep eval`-style command.

Usage: jsonata_suite.py --suite DIR [--cmd "target/release/sandstep eval"] [--jobs N] [--show-failures]

DIR is `test/test-suite` of a jsonata-js checkout (its files are not part of this repository).
Each case runs as `CMD EXPR [--input JSON] [--bind NAME=JSON]...`: stdout holds the result as JSON
(nothing when undefined) and exit 0, or a JSON object with `code` and exit 1. Cases with a
`timelimit` or `depth` are counted apart, as the issue asks (they need an evaluator option the
command line does not take).
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys


def strict_equal(a, b):
    """JSON equality where true is not 1 and 1 equals 1.0 (as chai's deep.equal on JSON)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (abs(a - b) <= 1e-9 * max(abs(a), abs(b)))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def load_cases(suite):
    datasets = {}
    for name in os.listdir(os.path.join(suite, "datasets")):
        with open(os.path.join(suite, "datasets", name)) as f:
            datasets[name[:-5]] = json.load(f)
    cases = []
    groups_dir = os.path.join(suite, "groups")
    for group in sorted(os.listdir(groups_dir)):
        gdir = os.path.join(groups_dir, group)
        for name in sorted(os.listdir(gdir)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(gdir, name)) as f:
                spec = json.load(f)
            for i, case in enumerate(spec if isinstance(spec, list) else [spec]):
                case = dict(case)
                case["id"] = f"{group}/{name}" + (f"#{i}" if isinstance(spec, list) else "")
                if "error" in case and "code" not in case:
                    case["code"] = case["error"]["code"]
                if "expr-file" in case:
                    with open(os.path.join(gdir, case["expr-file"])) as f:
                        case["expr"] = f.read()
                if "data" in case:
                    case["input"] = ("value", case["data"])
                elif case.get("dataset") is not None:
                    case["input"] = ("value", datasets[case["dataset"]])
                else:
                    case["input"] = None
                cases.append(case)
    return cases


def run_case(cmd, case):
    argv = cmd + [case["expr"]]
    if case["input"] is not None:
        argv += ["--input", json.dumps(case["input"][1])]
    for name, value in (case.get("bindings") or {}).items():
        argv += ["--bind", f"{name}={json.dumps(value)}"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    except UnicodeEncodeError:
        return False, "the expression holds a lone UTF-16 surrogate, which UTF-8 (and Rust) cannot hold"
    out = proc.stdout.strip()
    if proc.returncode not in (0, 1):
        return False, f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    if proc.returncode == 1:
        try:
            err = json.loads(out)
        except ValueError:
            return False, f"error output is not JSON: {out[:200]}"
        if "code" in case:
            ok = err.get("code") == case["code"]
            return ok, "" if ok else f"code {err.get('code')} want {case['code']}: {err.get('message')}"
        return False, f"unexpected error {err.get('code')}: {err.get('message')}"
    if "code" in case:
        return False, f"want error {case['code']}, got {out[:200] or 'undefined'}"
    if case.get("undefinedResult"):
        return out == "", "" if out == "" else f"want undefined, got {out[:200]}"
    if out == "":
        return False, "got undefined"
    try:
        got = json.loads(out)
    except ValueError:
        return False, f"output is not JSON: {out[:200]}"
    ok = strict_equal(got, case["result"])
    return ok, "" if ok else f"got {json.dumps(got)[:200]} want {json.dumps(case['result'])[:200]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--cmd", default="target/release/sandstep eval")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    cmd = shlex.split(args.cmd)
    cases = load_cases(args.suite)
    scored = [c for c in cases if "timelimit" not in c and "depth" not in c]
    limited = len(cases) - len(scored)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(lambda c: run_case(cmd, c), scored))
    failures = [(c, why) for c, (ok, why) in zip(scored, outcomes) if not ok]
    passed = len(scored) - len(failures)
    if args.show_failures:
        for case, why in failures:
            print(f"FAIL {case['id']}: {case['expr'][:120]!r}: {why}")
    print(f"jsonata suite: {passed}/{len(scored)} passed ({100.0 * passed / len(scored):.2f} %); "
          f"{limited} cases with timelimit/depth not scored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
