# Sourced by the miltertest-based tests: a private emogate milter on a unix
# socket in a temp dir, staying as the current user, logging to $T/log.
#   local_milter_setup PREFIX      -> $T (temp dir), cleanup trap, $PID empty
#   local_milter_start RULES_TOML  -> writes $T/emogate.toml, starts, waits for the socket
local_milter_setup() {
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  PID=
  trap 'if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; fi; wait 2>/dev/null; rm -rf "$T"' EXIT
}

local_milter_start() {
  cat >"$T/emogate.toml" <<CFG
[rules]
paths = [$1]
[milter]
socket = "unix:$T/emogate.sock"
user = ""
group = ""
[quarantine]
dir = "$T/quarantine"
[log]
to_stderr = true
CFG
  "$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >"$T/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do [ -S "$T/emogate.sock" ] && break; sleep 0.1; done
}
