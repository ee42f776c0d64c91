# Sourced by the Postfix tests after postfix_env.sh: skips the test (77)
# when Postfix, user nobody or group postfix are missing; the ok/bad/check
# counters and the exit trap (kills $MILTER_PID, runs the test's
# test_cleanup function if it defines one, stops Postfix, removes $T
# unless a check failed or KEEP_TMP is set).
pf_install || { echo "SKIP: postfix could not be installed (apt-get install postfix)"; exit 77; }
id nobody >/dev/null 2>&1 && getent group postfix >/dev/null || { echo "SKIP: need user nobody and group postfix"; exit 77; }
MILTER_PID=
FAILS=0
cleanup() {
    [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null
    if declare -F test_cleanup >/dev/null; then test_cleanup; fi  # the test's own MTA
    pf_stop
    if [ "$FAILS" = 0 ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
}
trap cleanup EXIT
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
