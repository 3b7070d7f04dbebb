# Shared by .ci/start and .ci/test; sourced, not run.

# Cargo's target directory lives outside the clone and survives between runs,
# so RocksDB's C++ (about ten minutes on two cores) is built once per machine,
# not once per clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strata-target}"

# Work from the repository root whatever the caller's directory.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> %s\n' "$*"; }

# Prints a command, then runs it.
run() {
    printf '+ %s\n' "$*"
    "$@"
}

# Installs the Debian packages given that are not installed yet. Runs
# `apt-get update` only when something is missing; uses sudo only when not root.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages present: $*"
        return
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        # Without a terminal sudo cannot ask for a password: fail instead of hanging.
        if [ -t 0 ]; then sudo=(sudo); else sudo=(sudo -n); fi
    fi
    say "installing Debian packages: ${missing[*]}"
    run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    run "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Fails with advice when there is no Rust toolchain.
ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found. Install Rust with rustup (https://rustup.rs), then run this again." >&2
        exit 1
    fi
    say "$(cargo --version), target directory $CARGO_TARGET_DIR"
}

# Adds rustup components (rustfmt, clippy) that the toolchain lacks.
ensure_components() {
    local c missing=()
    for c in "$@"; do
        case "$c" in
            rustfmt) cargo fmt --version >/dev/null 2>&1 || missing+=("$c") ;;
            clippy) cargo clippy --version >/dev/null 2>&1 || missing+=("$c") ;;
        esac
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if ! command -v rustup >/dev/null 2>&1; then
            echo "error: missing Rust components ${missing[*]} and no rustup to add them." >&2
            exit 1
        fi
        run rustup component add "${missing[@]}"
    fi
}
