#!/usr/bin/env bash
# Audit the pinned dependencies (constraints.txt: the versions the tests passed with) for known
# vulnerabilities with pip-audit. pip-audit runs from its own virtual environment: an audit tool
# is not a dependency of eigyo, and its own requirements must not move the project's pins.
#
# Exit 0: no known vulnerability, or the vulnerability service could not be asked (said in one
# line: an offline machine cannot audit, and that is not a finding). Exit 1: a pinned version has
# a known vulnerability (the table names it and the fixed versions); update constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.audit-venv
if [ ! -x "$VENV/bin/pip-audit" ]; then
    python3 -m venv "$VENV"
    PIP_CONSTRAINT= "$VENV/bin/python" -m pip install -q pip-audit 2>"$VENV/install.log"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$VENV/bin/pip-audit" -r constraints.txt --progress-spinner off --desc off >"$out" 2>&1 || status=$?
skipped=$(grep -c "could not be audited" "$out" || true)
if grep -qE "ConnectionError|NameResolutionError|Max retries exceeded|Temporary failure" "$out"; then
    echo "audit: the vulnerability service could not be reached; dependencies not audited"
    exit 0
fi
if grep -qE "^Name +Version +ID" "$out" || grep -q "known vulnerabilit" "$out" && [ "$status" -ne 0 ]; then
    cat "$out"
    exit 1
fi
if [ "$status" -ne 0 ]; then
    cat "$out"
    exit "$status"
fi
total=$(grep -cvE '^\s*(#|$)' constraints.txt || true)
if [ "$skipped" -gt 0 ]; then
    echo "audit: no known vulnerability in $((total - skipped)) of $total pinned packages; $skipped could not be audited (the package index gives no vulnerability data for them)"
else
    echo "audit: no known vulnerability in the $total pinned packages"
fi
