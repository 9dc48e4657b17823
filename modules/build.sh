#!/usr/bin/env bash
# Builds every task module into modules/dist/<name>.wasm:
#   - Rust crates under examples/, fixtures/ and samples/*/modules/ -> components of the
#     `task` world
#   - C files under c/, fixtures/ and samples/*/modules/ -> WASI preview 1 command modules
#
#   modules/build.sh            # build what changed, validate dist/, list it
#   modules/build.sh --clean    # remove modules/target, modules/dist and the tool's build first
#
# Rust route: `cargo build --target wasm32-unknown-unknown` where rustup has that target
# installed; otherwise Debian's rustc (`rustc-web`) with RUSTC_BOOTSTRAP=1 and
# `-Z build-std=std,panic_abort`. Missing apt packages are installed (as root, or via sudo).
# Incremental: a run with nothing changed takes a few seconds.
set -euo pipefail

MODULES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$MODULES")"
TOOL_DIR="$ROOT/host-api/componentize"
TOOL="$TOOL_DIR/target/release/sandstep-componentize"
DIST="$MODULES/dist"
WASM_OUT="$MODULES/target/wasm32-unknown-unknown/release"
START=$SECONDS

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [[ "${1:-}" == "--clean" ]]; then
    rm -rf "$MODULES/target" "$DIST" "$TOOL_DIR/target"
    shift
fi
[[ $# -eq 0 ]] || die "usage: $0 [--clean]"

# The guest build's flags are fixed by modules/.cargo/config.toml and Cargo.toml's
# profile. Flags from the environment (CI often sets RUSTFLAGS for the server) would
# rebuild std and change the modules, and a CARGO_TARGET_DIR would move the outputs.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_TARGET_DIR CARGO_BUILD_TARGET \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS

# --- toolchains ------------------------------------------------------------------------

missing_packages=()
need_package() { # need_package PACKAGE: queue it for apt-get when dpkg does not know it
    dpkg -s "$1" >/dev/null 2>&1 || missing_packages+=("$1")
}

if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    ROUTE=rustup
else
    ROUTE=debian
fi

have_dpkg=false
command -v dpkg >/dev/null 2>&1 && have_dpkg=true
if $have_dpkg; then
    if [[ $ROUTE == debian ]]; then
        for p in rustc-web cargo-web rust-web-src lld-22; do need_package "$p"; done
    fi
    for p in wasi-libc clang-16 lld-16 libclang-rt-16-dev-wasm32; do need_package "$p"; done
fi
if ((${#missing_packages[@]})); then
    say "installing ${missing_packages[*]} (apt-get)"
    SUDO=()
    [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q >&2
    "${SUDO[@]}" apt-get install -y -q "${missing_packages[@]}" >&2
fi
if ! $have_dpkg; then
    if [[ $ROUTE == debian ]]; then
        die "no wasm32-unknown-unknown target: run 'rustup target add wasm32-unknown-unknown', or use Debian packages (see modules/README.md)"
    fi
    command -v clang-16 >/dev/null 2>&1 || die "clang-16 with wasi-libc is needed for the C modules (see modules/README.md)"
fi

# The host-side tool is built with whatever cargo runs host code here: rustup's, else Debian's.
if command -v cargo >/dev/null 2>&1; then HOST_CARGO=(cargo); else HOST_CARGO=(env RUSTC=/usr/bin/rustc /usr/bin/cargo); fi

# --- componentize tool -------------------------------------------------------------------

say "building the componentize tool (host-api/componentize)"
"${HOST_CARGO[@]}" build --quiet --release --locked \
    --manifest-path "$TOOL_DIR/Cargo.toml" --target-dir "$TOOL_DIR/target"

# --- Rust modules ------------------------------------------------------------------------

say "building Rust modules ($ROUTE route)"
cd "$MODULES"
if [[ $ROUTE == rustup ]]; then
    cargo build --release --target wasm32-unknown-unknown
else
    # Debian's cargo would otherwise call rustup's rustc proxy, which has no wasm std.
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --release \
        --target wasm32-unknown-unknown -Z build-std=std,panic_abort
fi

mkdir -p "$DIST"
built=()
for manifest in "$MODULES"/examples/*/Cargo.toml "$MODULES"/fixtures/*/Cargo.toml \
    "$MODULES"/samples/*/modules/*/Cargo.toml; do
    dir="$(dirname "$manifest")"
    name="$(basename "$dir")"
    core="$WASM_OUT/${name//-/_}.wasm"
    out="$DIST/$name.wasm"
    [[ -f "$core" ]] || die "$name: no $core (is the crate a cdylib listed in modules/Cargo.toml?)"
    if [[ ! -f "$out" || "$core" -nt "$out" || "$TOOL" -nt "$out" ]]; then
        "$TOOL" "$core" "$out"
    fi
    built+=("$out")
done

# --- C modules (WASI preview 1 commands) ---------------------------------------------------

for src in "$MODULES"/c/*.c "$MODULES"/fixtures/*.c "$MODULES"/samples/*/modules/*.c; do
    [[ -f "$src" ]] || continue
    name="$(basename "$src" .c)"
    out="$DIST/$name.wasm"
    if [[ ! -f "$out" || "$src" -nt "$out" || "$MODULES/c/include/json_reader.h" -nt "$out" ]]; then
        say "compiling $name (C, wasm32-wasi command)"
        clang-16 --target=wasm32-wasi -Oz -s -Wall -Wextra -Werror -I "$MODULES/c/include" \
            "$src" -o "$out.$$.tmp"
        mv "$out.$$.tmp" "$out"
    fi
    built+=("$out")
done

# --- check and report ----------------------------------------------------------------------

# Validates every output and lists its kind, size, imports and exports.
"$TOOL" --inspect "${built[@]}"
say "${#built[@]} modules in $DIST ($((SECONDS - START)) s)"
