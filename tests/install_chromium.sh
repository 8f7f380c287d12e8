#!/bin/sh
# Debian's chromium for the console tests (tests/console), installed from the Debian archive when it is missing
# and this is root. It runs before tests/private_network.sh, whose namespace has no way out. Where it cannot
# install, the console tests are skipped, saying why.
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install_chromium.sh: no chromium, and no apt-get as root to install it: the console tests will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null ||
    echo "install_chromium.sh: apt-get install chromium failed: the console tests will be skipped" >&2
exit 0
