#!/usr/bin/env bash
# Install what the tests need on a fresh Debian/Ubuntu machine, as root: the PostgreSQL server
# (initdb, pg_ctl, the `postgres` OS user), a Java runtime for Spark (17, else 21), and Chromium
# with a Japanese font for the dashboard's browser test.
# Idempotent: what is already present is skipped, and apt is not touched when nothing is missing.
# Run by .ci/run before `make test`; the tests fail in CI (CI=true) when any of it is missing.
# Python packages are not installed here: `make` installs them with `-c constraints.txt`.
set -euo pipefail

have_postgres() {
  { command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; } \
    && id postgres >/dev/null 2>&1
}

have_java() {
  local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$java" >/dev/null || return 1
  local major
  major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [ "${major:-0}" -ge 17 ]
}

# The first package of the arguments that apt can install (a candidate version exists).
first_available() {
  local pkg
  for pkg in "$@"; do
    if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      echo "$pkg"
      return 0
    fi
  done
  return 1
}

have_chromium() {
  command -v chromium >/dev/null || return 1
  local fonts  # read fully first: `grep -q` closing the pipe early would fail under pipefail
  fonts=$(fc-list 2>/dev/null || true)
  grep -qi 'IPAGothic\|IPAexGothic' <<<"$fonts"
}

missing=()
have_postgres || missing+=(postgres)
have_java || missing+=(java)
have_chromium || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-setup: PostgreSQL server, Java and Chromium are present; nothing to install."
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ci-setup: missing ${missing[*]}; run this script as root to install them." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
packages=()
for what in "${missing[@]}"; do
  case "$what" in
    postgres) packages+=(postgresql) ;;
    java)
      pkg=$(first_available openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless) \
        || { echo "ci-setup: no Java 17+ runtime package found by apt." >&2; exit 1; }
      packages+=("$pkg") ;;
    chromium) packages+=(chromium fonts-ipafont-gothic fontconfig) ;;
  esac
done
echo "ci-setup: installing ${packages[*]}"
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
have_postgres || { echo "ci-setup: PostgreSQL server still missing after install." >&2; exit 1; }
have_java || { echo "ci-setup: Java 17+ still missing after install." >&2; exit 1; }
have_chromium || { echo "ci-setup: Chromium or the Japanese font still missing." >&2; exit 1; }
echo "ci-setup: done."
