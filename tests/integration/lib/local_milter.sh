# Sourced by the miltertest-based tests: a private emogate milter on a unix
# socket in a temp dir, staying as the current user, logging to $T/log.
#   local_milter_setup PREFIX      -> $T (temp dir), cleanup trap, $PID empty
#   local_milter_config RULES_TOML [EXTRA_TOML]
#                                  -> (re)writes $T/emogate.toml; EXTRA_TOML
#                                     (whole sections) is appended
#   local_milter_start RULES_TOML [EXTRA_TOML]
#                                  -> writes the config, starts, waits for the socket
# The pid file is $T/emogate.pid.
local_milter_setup() {
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  PID=
  trap 'if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; fi; wait 2>/dev/null; rm -rf "$T"' EXIT
}

local_milter_config() {
  cat >"$T/emogate.toml.new" <<CFG
[rules]
paths = [$1]
[milter]
socket = "unix:$T/emogate.sock"
user = ""
group = ""
pid_file = "$T/emogate.pid"
[quarantine]
dir = "$T/quarantine"
[state]
path = "$T/state.db"
[log]
to_stderr = true
${2:-}
CFG
  mv "$T/emogate.toml.new" "$T/emogate.toml"
}

local_milter_start() {
  local_milter_config "$@"
  "$EMOGATE_BIN" milter --config "$T/emogate.toml" --foreground >"$T/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do [ -S "$T/emogate.sock" ] && break; sleep 0.1; done
}
