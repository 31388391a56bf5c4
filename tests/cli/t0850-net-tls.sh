#!/usr/bin/env bash
# t0850-net-tls: socket mode over TLS 1.3 (serve --tls-cert/--tls-key, --tls-ca on every client
# step) on 127.0.0.1, with throwaway certificates made by the openssl tool (net.sh tls_certs):
#   - the flags, and bad certificate and key files (a key that others may read: exit 77);
#   - the walk of t0800 over TLS yields the exact plaintext sum, and the server speaks TLS 1.3
#     only;
#   - a client that does not trust the server (another CA, a name the certificate lacks, an
#     impostor server) exits 65 without sending: the server never sees its message, and its
#     state is unchanged;
#   - a plain-TCP client against the TLS server is logged and is a dropout; the session goes on;
#   - a connection that never finishes the handshake (silent, or a ClientHello cut short) is
#     closed at --frame-timeout; garbage, a truncated ClientHello and a reset mid-handshake are
#     logged at once, and the session still completes; a TLS client against a plain server is
#     refused, and told so.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
raw() { timeout 30 "$PY" "$RAW" "$PORT" "$@"; }
# seconds_below OUT LIMIT: the first field of a rawclient output is below LIMIT.
seconds_below() { awk -v lim="$2" '{ exit !($1 < lim) }' <<<"$1"; }
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
fails() { ! "$@"; }
R32=4294967296
R16=65536

tls_certs
CERTS=$PWD

section "TLS flags, certificate and key files"
must secagg-collect setup --session E/S --clients 3 --threshold 2 --modulus-bits 8 --length 4
SERVE_E=(secagg-collect serve --session E/S --listen 127.0.0.1:0)
expect_exit 64 "${SERVE_E[@]}" --tls-cert server.pem
expect_err "--tls-cert and --tls-key go together"
expect_exit 64 "${SERVE_E[@]}" --tls-key server.key
expect_exit 66 "${SERVE_E[@]}" --tls-cert nosuch.pem --tls-key server.key
expect_err "nosuch.pem: cannot read the certificate (--tls-cert): No such file or directory"
cp server.key open.key
chmod 644 open.key
expect_exit 77 "${SERVE_E[@]}" --tls-cert server.pem --tls-key open.key
expect_err "open.key: the private key may be read or written by group or others (mode 0644)" "chmod 600 open.key"
chmod 640 open.key
expect_exit 77 "${SERVE_E[@]}" --tls-cert server.pem --tls-key open.key
expect_err "(mode 0640)"
expect_exit 65 "${SERVE_E[@]}" --tls-cert server.pem --tls-key other.key
expect_err "other.key: this private key does not belong to the certificate in server.pem"
printf 'not a certificate\n' >junk.pem
cp junk.pem junk.key
chmod 600 junk.key
expect_exit 65 "${SERVE_E[@]}" --tls-cert junk.pem --tls-key server.key
expect_err "junk.pem: not a PEM certificate chain (--tls-cert)"
expect_exit 65 "${SERVE_E[@]}" --tls-cert server.pem --tls-key junk.key
expect_err "junk.key: not an unencrypted PEM private key (--tls-key)"
must openssl pkey -in server.key -aes256 -passout pass:secret -out secret.key
expect_exit 65 "${SERVE_E[@]}" --tls-cert server.pem --tls-key secret.key </dev/null
expect_err "secret.key: not an unencrypted PEM private key (--tls-key)"
check "serve wrote nothing into the session" test "$(ls E/S)" = params.msg
KEYGEN_E=(secagg-keygen --params E/S/params.msg --id 1 --state e1)
expect_exit 64 "${KEYGEN_E[@]}" -o adv.msg --tls-ca ca.pem
expect_err "--tls-ca needs --connect"
expect_exit 64 "${KEYGEN_E[@]}" --connect 127.0.0.1:1 --recv r.msg --tls-server-name secagg.test
expect_err "--tls-server-name needs --tls-ca"
expect_exit 66 "${KEYGEN_E[@]}" --connect 127.0.0.1:1 --recv r.msg --tls-ca nosuch.pem
expect_err "nosuch.pem: cannot read the CA certificate (--tls-ca)"
expect_exit 65 "${KEYGEN_E[@]}" --connect 127.0.0.1:1 --recv r.msg --tls-ca junk.pem
expect_err "junk.pem: no PEM certificate to trust (--tls-ca)"
assert_absent e1 r.msg adv.msg

section "the walk over TLS: n=5, t=3, R=2^32, length 1000; client 5 speaks plain TCP in round 2"
mkdir W && cd W
expect_exit 0 secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 32 --length 1000
for i in 1 2 3 4 5; do gen_input "$i" 1000 "$R32" >"x$i.txt"; done
serve_start --round-timeout 3 --text -v --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key"
wait_log "^secagg-collect: listening on 127\\.0\\.0\\.1:$PORT \\(TLS 1\\.3\\)$"
s_client() { timeout 10 openssl s_client -connect "127.0.0.1:$PORT" "$@" </dev/null 2>&1; }
check "openssl s_client verifies the server against ca.pem and gets TLS 1.3" grep -q '^Protocol version: TLSv1.3$' \
  <(s_client -CAfile "$CERTS/ca.pem" -verify_return_error -verify_ip 127.0.0.1 -brief)
tls12() { ! s_client -tls1_2 >/dev/null; }
check "TLS 1.2 is refused" tls12
wait_log 'TLS handshake failed: unsupported protocol \(secagg speaks TLS 1\.3 only\)$'

NET_CLIENT_ARGS=(--tls-ca "$CERTS/ca.pem")
# Round 0. Client 1 does not trust the server, twice: it trusts another CA, then the right CA
# but a name the certificate does not carry. It sends nothing and keeps no state.
KEYGEN1=(secagg-keygen --params S/params.msg --id 1 --state c1 --connect "127.0.0.1:$PORT" --recv roster1.msg)
expect_exit 65 "${KEYGEN1[@]}" --tls-ca "$CERTS/other.pem"
expect_err "secagg-keygen: error: 127.0.0.1:$PORT: TLS: certificate verify failed: unable to get local issuer" \
  "the message was not sent"
expect_exit 65 "${KEYGEN1[@]}" --tls-ca "$CERTS/ca.pem" --tls-server-name wrong.test
expect_err "127.0.0.1:$PORT: TLS: certificate verify failed: hostname mismatch"
assert_absent c1 roster1.msg
log_has '^secagg-collect: round 0: refused: peer 127\.0\.0\.1:[0-9]+: TLS handshake failed: tlsv1 alert unknown ca$'
check "the server never saw client 1's message" fails grep -q 'client 1 at' serve.log
# Then it checks the certificate's DNS name instead of the address it connects to.
net_client keygen1 keygen 1 --tls-server-name secagg.test
for i in 2 3 4 5; do net_client "keygen$i" keygen "$i"; done
for i in 1 2 3 4 5; do net_wait "keygen$i" 0; done

# Round 1. Client 2 first trusts the wrong CA: it exits 65 and its state is unchanged, so it
# can share its keys (with fresh randomness) once it trusts the right one.
snapshot c2
expect_exit 65 secagg-share --state c2 --roster roster2.msg --connect "127.0.0.1:$PORT" --recv inbox2.msg \
  --tls-ca "$CERTS/other.pem"
expect_err "TLS: certificate verify failed: unable to get local issuer certificate"
assert_unchanged c2
assert_absent inbox2.msg
net_step share 1 2 3 4 5
log_count 'round 1: client 2 at .*: sends a ' 1

# Round 2. secagg-mask saves its state only once the server is authenticated: neither a CA
# file that cannot be read nor a server it does not trust changes it, and it can mask again.
# Client 5 speaks plain TCP: the server logs it and it is a dropout; the others mask over TLS.
MASK1=(secagg-mask --state c1 --inbox inbox1.msg --input x1.txt --connect "127.0.0.1:$PORT" --recv survivors1.msg
  -o masked1.msg)
snapshot c1
expect_exit 66 "${MASK1[@]}" --tls-ca nosuch.pem
expect_exit 65 "${MASK1[@]}" --tls-ca "$CERTS/other.pem"
expect_err "TLS: certificate verify failed: unable to get local issuer certificate" "the message was not sent"
assert_unchanged c1
assert_absent survivors1.msg masked1.msg
NET_CLIENT_ARGS=()
net_client mask5 mask 5
NET_CLIENT_ARGS=(--tls-ca "$CERTS/ca.pem")
net_wait mask5 75
check "client 5 was told the server closed the connection" grep -q 'server closed the connection without an answer' \
  mask5.err
log_has '^secagg-collect: round 2: refused: peer 127\.0\.0\.1:[0-9]+: TLS handshake failed: wrong version number \(not a TLS client: a client without --tls-ca\?\)$'
net_step mask 1 2 3 4
# Round 4. So does secagg-unmask: client 2 checks a name the certificate does not carry.
snapshot c2
expect_exit 65 secagg-unmask --state c2 --survivors survivors2.msg --connect "127.0.0.1:$PORT" \
  --recv aggregate2.vec --tls-ca "$CERTS/ca.pem" --tls-server-name 127.0.0.2
expect_err "TLS: certificate verify failed: IP address mismatch" "the message was not sent"
assert_unchanged c2
net_step unmask 1 2 3 4
serve_wait 0
check_sum serve.out x1.txt x2.txt x3.txt x4.txt "$R32"
log_has '^secagg-collect: round 2: client 5: dropped: no message before the deadline$'
check "every refusal was of a peer that failed the handshake, never of a client's message" \
  fails grep -E 'refused: client|dropped' <(grep -v 'round 2: client 5: dropped' serve.log)
for i in 1 2 3 4 5; do
  check "client $i's roster is S/roster.msg" cmp -s "roster$i.msg" S/roster.msg
  check "client $i's inbox is S/inbox-$i.msg" cmp -s "inbox$i.msg" "S/inbox-$i.msg"
done
for i in 1 2 3 4; do
  check "client $i's survivor set is S/survivors.msg" cmp -s "survivors$i.msg" S/survivors.msg
  check "client $i got the aggregate, S/aggregate.vec" cmp -s "aggregate$i.vec" S/aggregate.vec
done
check "S/masked-5.msg does not exist" test ! -e S/masked-5.msg
cd ..

section "connections that fail the TLS handshake or never finish it (n=3, t=2)"
mkdir F && cd F
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 16 --length 20
for i in 1 2 3; do gen_input "$i" 20 "$R16" >"x$i.txt"; done
must secagg-keygen --params S/params.msg --id 1 --state p1 -o plain1.msg   # a valid frame, sent in the clear
serve_start --round-timeout 8 --frame-timeout 1 -v --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key"
raw idle >idle.out &            # connects, never sends a ClientHello
BG[idle]=$!
raw tlshello 60 >stall.out &    # the first 60 bytes of a ClientHello, then nothing
BG[stall]=$!
garbage=$(raw bytes 200)
check "garbage instead of a ClientHello is refused at once" seconds_below "$garbage" 0.8
plain=$(raw send plain1.msg)
check "a plain secagg frame is refused at once" seconds_below "$plain" 0.8
log_count 'round 0: refused: peer 127\.0\.0\.1:[0-9]+: TLS handshake failed: .* \(not a TLS client: a client without --tls-ca\?\)$' 2
raw tlshello 60 --close   # a truncated record, then a close
raw tlshello 60 --reset   # the same, then an RST
wait "${BG[idle]}"; unset "BG[idle]"
wait "${BG[stall]}"; unset "BG[stall]"
check "a connection that sends nothing is closed at --frame-timeout" seconds_below "$(cat idle.out)" 2.5
check "a ClientHello cut short is closed at --frame-timeout" seconds_below "$(cat stall.out)" 2.5
log_count '^secagg-collect: round 0: refused: peer 127\.0\.0\.1:[0-9]+: no TLS handshake within 1 s of connecting \(--frame-timeout\)$' 2
log_count '^secagg-collect: round 0: peer [^ ]+: closed the connection during the TLS handshake$' 2
# After the handshake, the frame checks and deadlines are those of plain TCP.
tgarbage=$(raw bytes 200 --tls "$CERTS/ca.pem")
check "garbage over TLS is refused at once" seconds_below "$tgarbage" 0.8
log_has '^secagg-collect: round 0: refused: peer 127\.0\.0\.1:[0-9]+: not a secagg frame \(no SAGG magic\)$'
big=$(raw header 3 1000000000 --tls "$CERTS/ca.pem")
check "an oversized frame over TLS is refused at once" seconds_below "$big" 0.8
log_has '^secagg-collect: round 0: refused: client 3 at 127\.0\.0\.1:[0-9]+: frame announces a body of 1000000000 bytes'
tidle=$(raw idle --tls "$CERTS/ca.pem")
check "a TLS connection that sends nothing is closed at --frame-timeout" seconds_below "$tidle" 2.5
log_has '^secagg-collect: round 0: refused: peer 127\.0\.0\.1:[0-9]+: no complete message within 1 s of connecting'
NET_CLIENT_ARGS=(--tls-ca "$CERTS/ca.pem")
net_step keygen 1 2 3
net_step share 1 2 3
net_step mask 1 2 3
net_step unmask 1 2 3
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt "$R16"
cd ..

section "a TLS client against a plain-TCP server, and against an impostor"
mkdir P && cd P
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 8 --length 4
serve_start --round-timeout 20
KEYGEN1=(secagg-keygen --params S/params.msg --id 1 --state c1 --connect "127.0.0.1:$PORT" --recv roster1.msg
  --tls-ca "$CERTS/ca.pem")
expect_exit 1 "${KEYGEN1[@]}"
expect_err "127.0.0.1:$PORT: TLS: the server closed the connection during the handshake" "the message was not sent"
wait_log 'refused: peer 127\.0\.0\.1:[0-9]+: sent a TLS handshake, but this server runs without --tls-cert \(plain TCP\)$'
assert_absent c1 roster1.msg
serve_kill
# A server with a certificate of its own (the impostor's self-signed one) on the same address.
serve_start --round-timeout 20 -v --tls-cert "$CERTS/other.pem" --tls-key "$CERTS/other.key"
KEYGEN1=(secagg-keygen --params S/params.msg --id 1 --state c1 --connect "127.0.0.1:$PORT" --recv roster1.msg
  --tls-ca "$CERTS/ca.pem")
expect_exit 65 "${KEYGEN1[@]}"
expect_err "127.0.0.1:$PORT: TLS: certificate verify failed: self-signed certificate" "the message was not sent"
assert_absent c1 roster1.msg
check "the impostor never saw client 1's message" fails grep -q 'client 1 at' serve.log
serve_kill
cd ..
