#!/bin/sh
# hub/nats's entrypoint (built by images/nats/build.sh): writes nats-server's configuration, Hub's
# authorization (every principal with the permissions the contracts give it, rendered into the image
# at build time) with each principal's password taken from HUB_NATS_PASSWORD_<PRINCIPAL> (all
# required; there is no anonymous connection), to /run/nats (0700, 0600), then runs
#   nats-server -js -sd $NATS_STORE_DIR -a $NATS_HOST -p $NATS_PORT -m $NATS_MONITOR_PORT [arguments]
# (defaults /data, 127.0.0.1, 4222, 8222; the monitoring endpoint, /healthz, listens on NATS_HOST too).
set -eu

: "${NATS_HOST:=127.0.0.1}"
: "${NATS_PORT:=4222}"
: "${NATS_MONITOR_PORT:=8222}"
: "${NATS_STORE_DIR:=/data}"
TEMPLATE=/etc/nats/hub-authorization.conf
CONFIG=/run/nats/nats-server.conf

umask 077
# Each "@@VARIABLE@@" of the template becomes the variable's value as a quoted string ("\" and "\\"
# escaped); a variable unset or empty, or holding a control character, stops the container naming it.
awk '
  function quoted(value,   out, i, c) {
    out = ""
    for (i = 1; i <= length(value); i++) {
      c = substr(value, i, 1)
      if (c < " ") return ""
      if (c == "\\" || c == "\"") out = out "\\"
      out = out c
    }
    return "\"" out "\""
  }
  {
    line = $0
    while (match(line, /"@@[A-Z0-9_]+@@"/)) {
      name = substr(line, RSTART + 3, RLENGTH - 6)
      value = (name in ENVIRON) ? quoted(ENVIRON[name]) : ""
      if (value == "" || value == "\"\"") {
        print "hub-nats: " name " is not set (or holds a control character): every principal needs its password" > "/dev/stderr"
        failed = 1
        exit 1
      }
      line = substr(line, 1, RSTART - 1) value substr(line, RSTART + RLENGTH)
    }
    print line
  }
  END { if (failed) exit 1 }
' "$TEMPLATE" >"$CONFIG"

exec nats-server -c "$CONFIG" -js -sd "$NATS_STORE_DIR" -a "$NATS_HOST" -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" "$@"
