# shellcheck shell=bash
# Helpers for the socket-mode tests (t08NN-net-*.sh), sourced after lib.sh.
#
# Everything runs on 127.0.0.1 with a port the server picks itself (--listen 127.0.0.1:0
# --port-file). Every background process is started under `timeout` and recorded; all of
# them are ended (TERM, which timeout passes on) when the script exits, however it exits.
# The session directory is ./S; client i keeps its files in the current directory, with the
# server's answers in roster$i.msg, inbox$i.msg, survivors$i.msg and aggregate$i.vec.

# Every foreground call of a tool is time-limited too (expect_exit still sees the tool's name).
secagg-collect() { timeout 60 "$SECAGG_BIN/secagg-collect" "$@"; }
secagg-keygen() { timeout 60 "$SECAGG_BIN/secagg-keygen" "$@"; }
secagg-share() { timeout 60 "$SECAGG_BIN/secagg-share" "$@"; }
secagg-mask() { timeout 60 "$SECAGG_BIN/secagg-mask" "$@"; }
secagg-unmask() { timeout 60 "$SECAGG_BIN/secagg-unmask" "$@"; }

declare -A BG=()   # name -> pid of a background client (its `timeout` wrapper)
SERVE_PID=""
PORT=""
NET_CLIENT_ARGS=()  # passed by every net_client, before its own extra arguments (e.g. --tls-ca)

_net_cleanup() {
  local p
  for p in "${BG[@]}" $SERVE_PID; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${BG[@]}" $SERVE_PID; do wait "$p" 2>/dev/null || true; done
}
# shellcheck disable=SC2154 # _net_rc is assigned in the trap itself
trap '_net_rc=$?; _net_cleanup; (exit $_net_rc); _finish' EXIT

# serve_start [SERVE ARGS...]: start the server on ./S in the background, logging to
# serve.log (the aggregate goes to serve.out); sets PORT once it listens. It listens on
# $SERVE_LISTEN, by default 127.0.0.1:0 (a free port).
serve_start() {
  rm -f serve.port
  timeout 120 "$SECAGG_BIN/secagg-collect" serve --session S --listen "${SERVE_LISTEN:-127.0.0.1:0}" \
    --port-file serve.port "$@" >serve.out 2>serve.log &
  SERVE_PID=$!
  local k
  for ((k = 0; k < 200; k++)); do
    [[ -s serve.port ]] && break
    sleep 0.05
  done
  if [[ ! -s serve.port ]]; then
    fail "the server did not start listening"
    sed 's/^/    serve.log: /' serve.log >&2
    exit 1
  fi
  PORT=$(cat serve.port)
}

# serve_wait WANT: wait for the server to exit; its exit code must be WANT.
serve_wait() {
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  if ((rc == $1)); then
    pass
  else
    fail "secagg-collect serve: exit $rc, expected $1"
    sed 's/^/    serve.log: /' serve.log >&2
  fi
}

# serve_kill: SIGKILL the server process itself (the child of its timeout wrapper).
serve_kill() {
  local child
  child=$(pgrep -P "$SERVE_PID" || true)
  [[ -n $child ]] && kill -KILL "$child"
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=""
}

# wait_log ERE [SECONDS]: wait until serve.log has a line matching ERE (default 20 s).
wait_log() {
  local k limit=$(((${2:-20}) * 20))
  for ((k = 0; k < limit; k++)); do
    grep -Eq -- "$1" serve.log && return 0
    sleep 0.05
  done
  fail "serve.log never matched /$1/"
  sed 's/^/    serve.log: /' serve.log >&2
  return 1
}

# log_has ERE: a check that serve.log has a line matching ERE.
log_has() {
  if grep -Eq -- "$1" serve.log; then
    pass
  else
    fail "serve.log has no line matching /$1/"
    sed 's/^/    serve.log: /' serve.log >&2
  fi
}

# log_count ERE N: serve.log has exactly N lines matching ERE.
log_count() {
  local got
  got=$(grep -Ec -- "$1" serve.log || true)
  if ((got == $2)); then
    pass
  else
    fail "serve.log has $got lines matching /$1/, expected $2"
    sed 's/^/    serve.log: /' serve.log >&2
  fi
}

# net_client NAME STEP ID [EXTRA ARGS...]: start client ID's STEP (keygen, share, mask,
# unmask; in an active session akeygen, with idID.key and idID.cert, sign and aunmask) over the
# network in the background; stdout to NAME.out, stderr to NAME.err.
net_client() {
  local name=$1 step=$2 i=$3
  shift 3
  local cmd=()
  case $step in
    keygen) cmd=(secagg-keygen --params S/params.msg --id "$i" --state "c$i" --recv "roster$i.msg") ;;
    share) cmd=(secagg-share --state "c$i" --roster "roster$i.msg" --recv "inbox$i.msg" --threads 1) ;;
    mask) cmd=(secagg-mask --state "c$i" --inbox "inbox$i.msg" --input "x$i.txt" --recv "survivors$i.msg" --threads 1) ;;
    unmask) cmd=(secagg-unmask --state "c$i" --survivors "survivors$i.msg" --recv "aggregate$i.vec") ;;
    akeygen) cmd=(secagg-keygen --params S/params.msg --id "$i" --state "c$i" --identity "id$i.key" --cert "id$i.cert"
      --recv "roster$i.msg") ;;
    sign) cmd=(secagg-unmask sign --state "c$i" --survivors "survivors$i.msg" --recv "consistency$i.msg") ;;
    aunmask) cmd=(secagg-unmask --state "c$i" --survivors "survivors$i.msg" --consistency "consistency$i.msg"
      --recv "aggregate$i.vec") ;;
    *) echo "net_client: unknown step $step" >&2; return 1 ;;
  esac
  timeout 60 "${cmd[@]}" --connect "127.0.0.1:$PORT" --timeout 50 "${NET_CLIENT_ARGS[@]}" "$@" >"$name.out" \
    2>"$name.err" &
  BG[$name]=$!
}

# net_wait NAME WANT: wait for a background client; its exit code must be WANT (and its
# stderr empty when WANT is 0).
net_wait() {
  local rc=0
  wait "${BG[$1]}" || rc=$?
  unset "BG[$1]"
  if ((rc == $2)) && { (($2 != 0)) || [[ ! -s $1.err ]]; }; then
    pass
  else
    fail "$1: exit $rc, expected $2"
    sed "s/^/    $1.err: /" "$1.err" >&2
  fi
}

# net_step STEP ID...: the clients run STEP in parallel; each must succeed.
net_step() {
  local step=$1 i
  shift
  for i; do net_client "$step$i" "$step" "$i"; done
  for i; do net_wait "$step$i" 0; done
}

# tls_certs: throwaway certificates in the current directory, made with the openssl tool:
#   ca.pem           a CA (its key ca.key)
#   server.pem/.key  a server certificate signed by it, for IP 127.0.0.1 and DNS secagg.test (key 0600)
#   other.pem/.key   a self-signed certificate for the same names, from nobody the clients trust
tls_certs() {
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2)
  must openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -subj "/CN=secagg test CA"
  must openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=secagg test server"
  printf 'subjectAltName = IP:127.0.0.1, DNS:secagg.test\nextendedKeyUsage = serverAuth\n' >server.ext
  must openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
    -out server.pem
  must openssl req -x509 "${ec[@]}" -keyout other.key -out other.pem -subj "/CN=secagg impostor" \
    -addext "subjectAltName = IP:127.0.0.1, DNS:secagg.test"
  chmod 600 server.key other.key
}

# kill_client NAME: SIGKILL the client process itself (the child of its timeout wrapper).
kill_client() {
  local child
  child=$(pgrep -P "${BG[$1]}" || true)
  [[ -n $child ]] && kill -KILL "$child"
  wait "${BG[$1]}" 2>/dev/null || true
  unset "BG[$1]"
}
