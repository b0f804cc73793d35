# Sourced by the bin/ commands: bootstraps if needed and puts the venv first on PATH.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/bin/bootstrap"
export PATH="$root/.venv/bin:$PATH"
export SOLCX_BINARY_PATH="$root/.venv/solcx"
export VIRTUAL_ENV="$root/.venv"
cd "$root"
