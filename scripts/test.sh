#!/usr/bin/env bash
# Runs every check and every test, from a fresh clone, with only the system Node present.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TRIBUTARY_ROOT"
pnpm run check
