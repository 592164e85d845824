#!/usr/bin/env bash
# Install the Debian packages `make test` needs when they are missing: Python with venv, make, redis-server and
# redis-sentinel, a headless Chromium and its driver. One `apt-get update`, and only when something is missing;
# as root apt-get runs as it is, otherwise through sudo.
set -euo pipefail
need=()
if ! command -v python3 >/dev/null 2>&1; then
    need+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need+=(python3-venv)  # Debian's python3 leaves ensurepip, which `python3 -m venv` needs, to this package
fi
command -v make >/dev/null 2>&1 || need+=(make)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
run=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: install ${need[*]} first" >&2; exit 1; }
    run=(sudo)
fi
"${run[@]}" apt-get update -qq
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
