#!/usr/bin/env python3
"""Measures Sandstep's JSONPath against Jayway JsonPath's answers, which AWS follows.

Usage: jsonpath_comparison.py --suite DIR [--cli target/release/sandstep] [--show-failures]

DIR is `regression_suite` of a cburgmer/json-path-comparison checkout (its files are not
part of this repository). Jayway's answer to a query is its own entry in
`Java_com.jayway.jsonpath.yaml` where it differs from the consensus, else the consensus of
`regression_suite.yaml` (any of its forms: a list, a scalar for a definite path, NOT_FOUND).

Each query runs as `sandstep run` of a Pass state `{"Parameters": {"r.$": SELECTOR}}` on
the query's document: the output's `r` is the answer; a failed execution whose cause says
the path matched nothing is NOT_FOUND; a refused definition is NOT_SUPPORTED.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

import yaml

NOT_FOUND = "NOT_FOUND"
NOT_SUPPORTED = "NOT_SUPPORTED"


def jayway_answers(suite):
    with open(os.path.join(suite, "regression_suite.yaml")) as f:
        queries = yaml.safe_load(f)["queries"]
    with open(os.path.join(suite, "Java_com.jayway.jsonpath.yaml")) as f:
        # An entry without a result is an error answer (Jayway refuses the query).
        own = {q["id"]: q.get("result", NOT_SUPPORTED) for q in yaml.safe_load(f)["queries"]}
    cases = []
    for q in queries:
        if q["id"] in own:
            answers = [own[q["id"]]]
        elif "consensus" in q:
            answers = [q["consensus"]]
            for form in ("scalar-consensus", "not-found-consensus", "scalar-not-found-consensus"):
                if form in q:
                    answers.append(q[form])
        else:
            continue  # no consensus and Jayway's answer is not recorded
        cases.append({"id": q["id"], "selector": q["selector"], "document": q.get("document"),
                      "answers": answers, "ordered": q.get("ordered", True)})
    return cases


def run_query(cli, workdir, case):
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass",
                  "Parameters": {"r.$": case["selector"]}, "End": True}}}
    path = os.path.join(workdir, case["id"] + ".json")
    with open(path, "w") as f:
        json.dump(definition, f)
    doc = os.path.join(workdir, case["id"] + ".input.json")
    with open(doc, "w") as f:
        json.dump(case["document"], f)
    try:
        proc = subprocess.run([cli, "run", path, "--input", "@" + doc],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "TIMEOUT"
    if proc.returncode == 0:
        return json.loads(proc.stdout)["r"]
    if proc.returncode == 2:
        return NOT_SUPPORTED
    if proc.returncode == 1:
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            return "CRASH: " + proc.stderr[-300:]
        cause = report.get("cause") or ""
        if "could not be found" in cause:
            return NOT_FOUND
        return "ERROR: " + cause[:200]
    return f"CRASH (exit {proc.returncode}): {proc.stderr[-300:]}"


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def agrees(case, got):
    """`ordered: false` marks queries whose answer order the comparison does not judge."""
    for answer in case["answers"]:
        if not case["ordered"] and isinstance(got, list) and isinstance(answer, list):
            key = lambda v: json.dumps(v, sort_keys=True)
            if same(sorted(got, key=key), sorted(answer, key=key)):
                return True
        elif same(got, answer):
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--cli", default="target/release/sandstep")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    cases = jayway_answers(args.suite)
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        got = list(pool.map(lambda c: run_query(args.cli, workdir, c), cases))
    failures = [(c, g) for c, g in zip(cases, got) if not agrees(c, g)]
    if args.show_failures:
        for case, g in failures:
            print(f"FAIL {case['id']}: {case['selector']!r}: got {json.dumps(g)[:160]} "
                  f"want {json.dumps(case['answers'][0])[:160]}")
    agree = len(cases) - len(failures)
    print(f"json-path-comparison: {agree}/{len(cases)} agree with Jayway "
          f"({100.0 * agree / len(cases):.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
