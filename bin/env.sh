# Sourced by the bin/ commands: bootstraps if needed and puts the venv first on PATH.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/bin/bootstrap"
export PATH="$root/.venv/bin:$PATH"
export SOLCX_BINARY_PATH="$root/.venv/solcx"
export VIRTUAL_ENV="$root/.venv"
# Ape compiles in an isolated copy under the temp dir, unless the project itself lies under
# the temp dir (a clone in /tmp): then it unpacks all of OpenZeppelin into contracts/.cache and
# its 500-file source scan misses our contracts. A temp dir of our own avoids both.
export TMPDIR="$root/.venv/tmp"
mkdir -p "$TMPDIR"
rm -rf "$root/contracts/.cache"
cd "$root"
# The forge platform binary itself, for bin/forge-invariants and bin/mutation: the npm wrapper
# (node_modules/.bin/forge, @foundry-rs/forge 1.7.1's bin.mjs) does not pass the binary's exit
# status on, so a failing run would exit 0 through it. Callers check it is executable.
FORGE="$(ls "$root"/node_modules/@foundry-rs/forge-*/bin/forge 2>/dev/null | head -n 1)"
export FORGE
