#!/usr/bin/env bash
# The main job: builds the workspace and runs the Tributary demo (examples/demo) on an embedded
# database: import examples/corpus, sync again without re-embedding, search. Arguments go to the
# demo: --dir DIR (default .tributary/demo-db), --corpus DIR, --query TEXT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TRIBUTARY_ROOT"
pnpm run build >&2
exec node --experimental-strip-types --no-warnings=ExperimentalWarning examples/demo/src/main.ts "$@"
