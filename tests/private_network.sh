#!/bin/sh
# Run a command (the test suite) in a private network namespace whose only interface is the loopback, where
# the machine permits one: every server the tests start, Milvus included (it listens on every interface), is
# then out of reach of anything else. Where it does not, the command runs as it is and the tests that need
# the namespace are skipped, saying why.
if command -v unshare >/dev/null && command -v ip >/dev/null; then
    for flags in -n -rn; do  # as root; else as a user mapped to root in a user namespace of its own
        if unshare $flags true 2>/dev/null; then
            exec unshare $flags sh -c 'ip link set lo up && exec "$@"' sh "$@"
        fi
    done
fi
echo "private_network.sh: no private network namespace here (unshare -n refused); the Milvus tests will be skipped" >&2
exec "$@"
