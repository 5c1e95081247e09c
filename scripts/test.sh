#!/usr/bin/env bash
# Runs every check and every test, from a fresh clone, with only the system Node present.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TRIBUTARY_ROOT"
# A real PostgreSQL server with pgvector for the server tests (idempotent; fails loudly if it cannot).
./scripts/install-postgres.sh
# Headless Chromium for the console's browser test (idempotent; fails loudly if it cannot).
./scripts/install-chromium.sh
pnpm run check
