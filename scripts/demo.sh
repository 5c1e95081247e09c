#!/usr/bin/env bash
# The main job: builds the workspace and runs the Tributary demo on an embedded database.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TRIBUTARY_ROOT"
pnpm run build >&2
exec node packages/cli/dist/bin.js demo "$@"
