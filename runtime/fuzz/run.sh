#!/usr/bin/env bash
# Runs Sandstep's fuzz targets one after the other, each for SECONDS (default 1800):
#
#   runtime/fuzz/run.sh [SECONDS] [TARGET...]
#
# Targets on the pure crates: definition, jsonpath, jsonata, intrinsics (the engine) and
# dynamo_expressions (sandstep-dynamo), sns_filter_policy (sandstep-sns), event_pattern and
# schedule (sandstep-events). Targets on the
# server crate (they link wasmtime, so their first build is a cold wasmtime build): sigv4,
# aws_request, module_inspect. No TARGET means all eleven.
#
# Each target starts from seeds/<target> and grows corpus/<target> (not committed). A crash,
# timeout or out-of-memory stops that target (libFuzzer's behaviour), is copied to
# regressions/<target>/ so the tests replay it, and makes the script exit 1.
#
# Environment:
#   FUZZ_TIMEOUT  seconds one input may take before it counts as a hang (default 10; 30 for
#                 module_inspect)
#   FUZZ_RSS_MB   memory one process may use before it counts as a leak or bomb (default 2048)
#   FUZZ_ARGS     more libFuzzer flags, e.g. "-jobs=2 -workers=2" or "-only_ascii=1"
set -euo pipefail

cd "$(dirname "$0")"
seconds=${1:-1800}
shift || true
engine_targets=(definition jsonpath jsonata intrinsics dynamo_expressions sns_filter_policy event_pattern schedule)
server_targets=(sigv4 aws_request module_inspect)
if [ $# -eq 0 ]; then
    set -- "${engine_targets[@]}" "${server_targets[@]}"
fi
case $seconds in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac

# cargo-fuzz asks for nightly-only compiler flags; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
# libfuzzer-sys compiles libFuzzer, which is C++.
if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
    echo "a C++ compiler is needed to build libFuzzer (apt-get install g++, or clang)" >&2
    exit 2
fi

# No sanitizer: the code is safe Rust (the workspace denies unsafe_code), so AddressSanitizer
# would mostly slow it down and triple its stack frames, while the bugs sought are panics,
# stack overflows, hangs and memory bombs. Debug assertions on, to catch integer overflow.
build_flags=(--sanitizer none --debug-assertions)

mkdir -p runs
summary=()
failed=0
for target in "$@"; do
    features=()
    timeout=${FUZZ_TIMEOUT:-10}
    case " ${engine_targets[*]} " in
    *" $target "*) ;;
    *)
        case " ${server_targets[*]} " in
        *" $target "*) features=(--features server) ;;
        *)
            echo "unknown target '$target'; known: ${engine_targets[*]} ${server_targets[*]}" >&2
            exit 2
            ;;
        esac
        ;;
    esac
    if [ "$target" = module_inspect ]; then
        timeout=${FUZZ_TIMEOUT:-30}
    fi

    echo "== $target: building" >&2
    cargo fuzz build "${build_flags[@]}" "${features[@]}" "$target"

    mkdir -p "corpus/$target" "artifacts/$target" "regressions/$target"
    dict=()
    if [ -f "dicts/$target.dict" ]; then
        dict=("-dict=dicts/$target.dict")
    fi
    log="runs/$target.log"
    marker=$(mktemp)
    echo "== $target: fuzzing for ${seconds}s (log: runtime/fuzz/$log)" >&2
    started=$(date +%s)
    status=0
    # The main thread, where libFuzzer runs each input, gets the 2 MiB stack of the server's
    # tokio threads: an input that overflows the server's stack overflows this one.
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    (
        ulimit -s 2048
        exec cargo fuzz run "${build_flags[@]}" "${features[@]}" "$target" \
            "corpus/$target" "seeds/$target" -- \
            -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
            -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-}
    ) >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - started))

    # libFuzzer's final stats; in -fork/-jobs mode, its last status line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$execs" ]; then
        execs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    fi
    execs=${execs:-0}
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    rate=${rate:-$((execs / (elapsed > 0 ? elapsed : 1)))}
    found=()
    while IFS= read -r artifact; do
        [ -n "$artifact" ] || continue
        found+=("$artifact")
        cp "$artifact" "regressions/$target/"
    done < <(find "artifacts/$target" -type f -newer "$marker" | sort)
    rm -f "$marker"
    if [ ${#found[@]} -gt 0 ] || [ "$status" -ne 0 ]; then
        failed=1
        echo "== $target: FAILED (exit $status), see $log" >&2
        grep -E -m 5 '^==[0-9]+== ERROR|==sandstep-fuzz==|panicked at|overflowed its stack|^SUMMARY' "$log" >&2 || true
        for artifact in "${found[@]}"; do
            echo "   input kept as regressions/$target/$(basename "$artifact")" >&2
        done
    fi
    summary+=("$(printf '%-15s %7ss %13s execs %8s exec/s %3s crashes' "$target" "$elapsed" \
        "$execs" "$rate" "${#found[@]}")")
done

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
