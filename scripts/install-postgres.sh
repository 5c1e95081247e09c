#!/usr/bin/env bash
# Makes a real PostgreSQL server with pgvector available for the tests and benches
# (@tributary/testkit-postgres starts it; see packages/testkit-postgres/README.md).
#
# Idempotent: does nothing when a server with pgvector is already installed. Otherwise, on Debian:
# - Debian 13 (trixie) or later: `apt-get install postgresql-17 postgresql-17-pgvector`.
# - Debian 12 (bookworm): the postgresql-15 server from bookworm, and pgvector 0.8 built from
#   Debian's *source* package (trixie has it; bookworm has no binary package). Only a `deb-src`
#   entry for trixie is added: a binary `deb` entry would make apt upgrade libc and the compilers.
# Elsewhere it says what to install and exits 1: a missing pgvector fails loudly, never skips.
#
# Writes the server's bin directory to .tools/postgres-bin, which startPostgresServer() reads
# (TRIBUTARY_POSTGRES_BIN overrides it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.tools"
mkdir -p "$TOOLS_DIR"
log() { printf '[install-postgres] %s\n' "$*" >&2; }

has_pgvector() { # $1 = major version
  [ -x "/usr/lib/postgresql/$1/bin/postgres" ] && [ -f "/usr/share/postgresql/$1/extension/vector.control" ] &&
    ls "/usr/lib/postgresql/$1/lib/vector.so" >/dev/null 2>&1
}

record() { # $1 = major version
  printf '%s\n' "/usr/lib/postgresql/$1/bin" >"$TOOLS_DIR/postgres-bin"
  log "PostgreSQL $1 with pgvector: /usr/lib/postgresql/$1/bin"
}

if [ -n "${TRIBUTARY_POSTGRES_BIN:-}" ]; then
  log "TRIBUTARY_POSTGRES_BIN=$TRIBUTARY_POSTGRES_BIN (set by you; not installing anything)"
  exit 0
fi
for major in 18 17 16 15; do
  if has_pgvector "$major"; then record "$major"; exit 0; fi
done

fail() {
  log "$*"
  log "Install a PostgreSQL server (15 or later) with the pgvector extension, then set"
  log "TRIBUTARY_POSTGRES_BIN to its bin directory (the one holding initdb and postgres)."
  exit 1
}

[ -r /etc/os-release ] || fail "no /etc/os-release: cannot tell how to install PostgreSQL here"
# shellcheck disable=SC1091
. /etc/os-release
[ "${ID:-}" = debian ] || fail "this script installs on Debian only (found ${ID:-unknown})"

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || fail "installing needs root (or sudo) for apt-get"
  SUDO=(sudo)
fi
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)

if [ "${VERSION_ID:-0}" -ge 13 ] 2>/dev/null; then
  log "Debian $VERSION_ID: installing postgresql-17 and postgresql-17-pgvector"
  "${APT[@]}" update >&2
  "${APT[@]}" install postgresql-17 postgresql-17-pgvector >&2
  has_pgvector 17 || fail "postgresql-17-pgvector installed but vector.so not found"
  record 17
  exit 0
fi

[ "${VERSION_CODENAME:-}" = bookworm ] || fail "unsupported Debian release ${VERSION_CODENAME:-$VERSION_ID}"
major=15
log "Debian 12: postgresql-$major from bookworm, pgvector built from Debian's trixie source package"
# The cluster tools must not create and start a default cluster at install time.
if [ ! -e /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf; then
  "${SUDO[@]}" mkdir -p /etc/postgresql-common
  printf 'create_main_cluster = false\n' | "${SUDO[@]}" tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
sources=/etc/apt/sources.list.d/tributary-trixie-src.sources
if [ ! -f "$sources" ]; then
  "${SUDO[@]}" tee "$sources" >/dev/null <<'EOF'
# Added by Tributary's scripts/install-postgres.sh: source packages only (pgvector is built from
# source against bookworm's server headers). Never add a binary `deb` entry for trixie here.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
"${APT[@]}" update >&2
"${APT[@]}" install "postgresql-$major" "postgresql-server-dev-$major" make gcc dpkg-dev >&2

build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
(
  cd "$build_dir"
  apt-get source --download-only pgvector >&2
  tarball="$(ls pgvector_*.orig.tar.* | head -n 1)"
  [ -n "$tarball" ] || { log "apt-get source gave no pgvector .orig tarball"; exit 1; }
  log "building $tarball"
  mkdir src && tar -xf "$tarball" -C src --strip-components=1
  cd src
  # OPTFLAGS='' : no -march=native, so the library runs on any x86-64 machine the image moves to.
  make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS='' >&2
  "${SUDO[@]}" make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" install >&2
)
has_pgvector "$major" || fail "pgvector built but vector.so is not in /usr/lib/postgresql/$major/lib"
record "$major"
