#!/usr/bin/env bash
# t0740-identity: long-term identities and certificates (man/secagg-keygen.1, "Identities and
# certificates"; man/secagg-formats.5, Identity, IdentityPublic, Certificate). `secagg-keygen
# identity` writes NAME.key (0600) and NAME.pub, never over an existing file (73); `certify`
# signs a certificate binding a client id to NAME.pub's key with a CA identity, laid out as the
# formats page says; secagg-inspect shows all three with the seed redacted. An identity file that
# group or others may read is refused (77, naming it), another message type as the CA's key (65)
# and missing files (66); nothing is left behind by a refusal. Round 0 without a subcommand is
# as before (t0100 walks it), and its options are refused with a subcommand (64).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# hexat FILE OFFSET COUNT: COUNT bytes of FILE from OFFSET, in hex.
hexat() { od -An -tx1 -v -j "$2" -N "$3" "$1" | tr -d ' \n'; }
# pk_of FILE.pub: the public key of an identity-public message (after the header and marker).
pk_of() { hexat "$1" 41 32; }

section "identity: NAME.key (0600) and NAME.pub"
expect_exit 0 secagg-keygen identity -o ca.key
expect_exit 0 secagg-keygen identity -o c1.key
expect_exit 0 secagg-keygen identity --output other
check "ca.key is 0600" test "$(file_mode ca.key)" = 600
check "c1.key is 0600" test "$(file_mode c1.key)" = 600
check "NAME.pub beside NAME.key" test -f ca.pub -a -f c1.pub
check "a name without .key gets .pub appended" test -f other -a -f other.pub
check "two identities differ" test "$(pk_of ca.pub)" != "$(pk_of c1.pub)"
expect_exit 0 secagg-inspect ca.key ca.pub >/dev/null
check "inspect: identity type, session zero, pk" grep -q "^ca.key: identity round=- session=00000000000000000000000000000000 sender=0 recipient=0 pk=$(pk_of ca.pub)\$" <(secagg-inspect ca.key)
check "inspect: identity-public" grep -q "^ca.pub: identity-public round=- .* pk=$(pk_of ca.pub)\$" <(secagg-inspect ca.pub)
secagg-inspect --json ca.key >ca.json
check "the seed is redacted" grep -q '"seed": "redacted"' ca.json
secagg-inspect --json --show-secrets ca.key >ca-secret.json
check "--show-secrets shows the seed" grep -Eq '"seed": "[0-9a-f]{64}"' ca-secret.json
seed=$(grep -Eo '"seed": "[0-9a-f]{64}"' ca-secret.json | grep -Eo '[0-9a-f]{64}')
check "the seed is in the file at its documented place" test "$(hexat ca.key 41 32)" = "$seed"

section "identity refuses to overwrite (73) and leaves nothing"
snapshot ca.key ca.pub
expect_exit 73 secagg-keygen identity -o ca.key
expect_err "ca.key: already exists; refusing to overwrite it"
assert_unchanged ca.key ca.pub
# Only the .pub exists: the .key is not made either.
cp c1.pub lone.pub
expect_exit 73 secagg-keygen identity -o lone.key
expect_err "lone.pub: already exists"
assert_absent lone.key
expect_exit 64 secagg-keygen identity -o -
expect_exit 64 secagg-keygen identity

section "certify: a certificate laid out as man/secagg-formats.5 says"
expect_exit 0 secagg-keygen certify --ca ca.key --id 1 --pub c1.pub -o c1.cert
check "header: type 16, round 255" test "$(hexat c1.cert 6 2)" = 10ff
check "header: session zero" test "$(hexat c1.cert 8 16)" = 00000000000000000000000000000000
check "header: sender 0, recipient 1" test "$(hexat c1.cert 24 8)" = 0000000001000000
check "body: 141 bytes (marker, u32, 2 x 32, u64, 64)" test "$(body_len c1.cert)" = 141
check "body: id 1" test "$(hexat c1.cert 41 4)" = 01000000
check "body: identity_pk is c1.pub's" test "$(hexat c1.cert 45 32)" = "$(pk_of c1.pub)"
check "body: ca_pk is ca.pub's" test "$(hexat c1.cert 77 32)" = "$(pk_of ca.pub)"
check "body: expires 0 (never)" test "$(hexat c1.cert 109 8)" = 0000000000000000
check "inspect: certificate" grep -q "^c1.cert: certificate round=- session=0* sender=0 recipient=1 id=1 identity_pk=$(pk_of c1.pub) ca_pk=$(pk_of ca.pub) expires=never\$" <(secagg-inspect c1.cert)
future=$(($(date +%s) + 86400))
expect_exit 0 secagg-keygen certify --ca ca.key --id 7 --pub c1.pub -o c7.cert --expires "$future"
check "inspect: expiry and id 7" grep -q "recipient=7 id=7 .* expires=$future\$" <(secagg-inspect c7.cert)
# Ed25519 is deterministic: the same certificate again is the same bytes.
expect_exit 0 secagg-keygen certify --ca ca.key --id 1 --pub c1.pub -o c1-again.cert
check "the same certificate twice is the same bytes" cmp -s c1.cert c1-again.cert
secagg-keygen certify --ca ca.key --id 1 --pub c1.pub -o - >c1-stdout.cert
check "-o - writes standard output" cmp -s c1.cert c1-stdout.cert

section "certify refusals"
expect_exit 64 secagg-keygen certify --ca ca.key --id 0 --pub c1.pub -o x.cert
expect_err "--id 0 is outside the client ids"
expect_exit 64 secagg-keygen certify --ca ca.key --id 1 --pub c1.pub -o x.cert --expires 5
expect_err "--expires 5 is not in the future"
# A group-readable identity is refused, naming the file; so is an other-readable one.
cp -p ca.key open.key
chmod 640 open.key
expect_exit 77 secagg-keygen certify --ca open.key --id 1 --pub c1.pub -o x.cert
expect_err "open.key: identity file is readable by group or others (mode 0640)"
chmod 604 open.key
expect_exit 77 secagg-keygen certify --ca open.key --id 1 --pub c1.pub -o x.cert
expect_err "open.key: identity file is readable by group or others (mode 0604)"
chmod 600 open.key
expect_exit 0 secagg-keygen certify --ca open.key --id 1 --pub c1.pub -o x.cert
rm x.cert
# Not an identity as the CA's key, not an identity-public as the client's (65).
expect_exit 65 secagg-keygen certify --ca ca.pub --id 1 --pub c1.pub -o x.cert
expect_err "ca.pub: is an identity-public message" "expected an identity message"
expect_exit 65 secagg-keygen certify --ca c1.cert --id 1 --pub c1.pub -o x.cert
expect_err "c1.cert: is a certificate message"
expect_exit 65 secagg-keygen certify --ca ca.key --id 1 --pub ca.key -o x.cert
expect_err "ca.key: is an identity message" "expected an identity-public message"
printf 'not a message' >junk.key
chmod 600 junk.key
expect_exit 65 secagg-keygen certify --ca junk.key --id 1 --pub c1.pub -o x.cert
expect_err "junk.key: not a secagg message"
# A corrupted identity (a flipped seed byte: checksum) is refused.
xorbyte ca.key 45 1 bad.key
chmod 600 bad.key
expect_exit 65 secagg-keygen certify --ca bad.key --id 1 --pub c1.pub -o x.cert
expect_err "bad.key: checksum mismatch"
# Missing files (66).
expect_exit 66 secagg-keygen certify --ca nope.key --id 1 --pub c1.pub -o x.cert
expect_err "nope.key"
expect_exit 66 secagg-keygen certify --ca ca.key --id 1 --pub nope.pub -o x.cert
expect_err "nope.pub"
expect_exit 64 secagg-keygen certify --ca ca.key --id 1 -o x.cert
assert_absent x.cert

section "round 0's options belong to no subcommand"
expect_exit 64 secagg-keygen --params p.msg identity -o y.key
expect_err "--params is an option of round 0, not of secagg-keygen identity"
assert_absent y.key y.pub
expect_exit 64 secagg-keygen
expect_err "--params is required"
