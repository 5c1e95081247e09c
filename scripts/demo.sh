#!/usr/bin/env bash
# The main job: builds what the demo needs and runs the Tributary demo (examples/demo) on an
# embedded database: import examples/corpus, sync again without re-embedding, search. Arguments go
# to the demo: --dir DIR (default .tributary/demo-db), --corpus DIR, --query TEXT.
set -euo pipefail
# No third-party telemetry notices; install and build output go to logs unless they fail.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
export TRIBUTARY_INSTALL_LOG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tributary/demo-install.log"
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TRIBUTARY_ROOT"
log=.tributary/demo-build.log
echo "Building the packages the demo needs (log: $log)..." >&2
if ! pnpm exec turbo run build --filter='@tributary/examples-demo...' --output-logs=errors-only >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "The build failed; the whole log is in $log." >&2
  exit 1
fi
exec node --experimental-strip-types --no-warnings=ExperimentalWarning examples/demo/src/main.ts "$@"
