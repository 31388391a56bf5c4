#!/usr/bin/env bash
# t0100-walk: a whole session in file mode, step by step, exactly as a user types it;
# the aggregate must be the exact plaintext sum of the survivors' inputs. Then the same
# walk with other moduli and the ChaCha20 PRG, -o outputs, '-' as stdin, state file
# modes, and secagg-inspect (summary, --json, --text, secrets redacted).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

R32=4294967296

section "the walk: n=5, t=3, R=2^32, length 1000; client 5 drops before round 2"
expect_exit 0 secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 32 --length 1000
check "setup writes S/params.msg" test -f S/params.msg
for i in 1 2 3 4 5; do gen_input "$i" 1000 "$R32" >"x$i.txt"; done
for i in 1 2 3 4 5; do
  expect_exit 0 secagg-keygen --params S/params.msg --id "$i" --state "c$i" >"adv$i.msg"
done
expect_exit 0 secagg-collect keys --session S adv*.msg
check "keys writes S/roster.msg" test -f S/roster.msg
for i in 1 2 3 4 5; do
  expect_exit 0 secagg-share --state "c$i" --roster S/roster.msg >"shares$i.msg"
  cp -p "c$i" "c$i.round1"  # a state that still holds its secrets, for the inspect checks below
done
expect_exit 0 secagg-collect shares --session S shares*.msg
for i in 1 2 3 4 5; do check "shares writes S/inbox-$i.msg" test -f "S/inbox-$i.msg"; done
check "shares writes S/u2.msg" test -f S/u2.msg
for i in 1 2 3; do
  expect_exit 0 secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" >"masked$i.msg"
  cp -p "c$i" "c$i.round2"
done
# '-' is standard input.
expect_exit 0 secagg-mask --state c4 --inbox S/inbox-4.msg --input - <x4.txt >masked4.msg
expect_exit 0 secagg-collect masked --session S masked*.msg
check "masked writes S/survivors.msg" test -f S/survivors.msg
for i in 1 2 3 4; do
  expect_exit 0 secagg-unmask --state "c$i" --survivors S/survivors.msg >"unmask$i.msg"
done
expect_exit 0 secagg-collect unmask --session S unmask*.msg --text >sum.txt
check_sum sum.txt x1.txt x2.txt x3.txt x4.txt "$R32"
check "collect unmask writes S/aggregate.vec" test -f S/aggregate.vec
expect_exit 0 secagg-inspect --text S/aggregate.vec >agg.txt
check "inspect --text S/aggregate.vec equals sum.txt" cmp -s agg.txt sum.txt

section "what the session directory records"
ids_of() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])'; }
check "u2.msg holds U2 = 1..5" test "$(ids_of S/u2.msg)" = "1 2 3 4 5"
check "survivors.msg holds U3 = 1..4" test "$(ids_of S/survivors.msg)" = "1 2 3 4"
check "roster lists 5 clients" grep -q ' u1=5$' <(secagg-inspect S/roster.msg)
for i in 1 2 3 4; do
  check "S/masked-$i.msg is client $i's message as sent" cmp -s "S/masked-$i.msg" "masked$i.msg"
  check "S/unmask-$i.msg is client $i's message as sent" cmp -s "S/unmask-$i.msg" "unmask$i.msg"
done
assert_absent S/masked-5.msg S/unmask-5.msg
# The masked input hides the input: not equal to it, and not equal to another client's.
secagg-inspect --text masked1.msg >y1.txt
check "masked input differs from the input" bash -c '! cmp -s y1.txt x1.txt'
check "masked input has the session's length" test "$(wc -l <y1.txt)" -eq 1000
check "no element of the masked input equals the input in more than 1% of places" \
  test "$(paste -d ' ' y1.txt x1.txt | awk '$1 == $2' | wc -l)" -lt 10

section "client state files are 0600 and record the stage"
for i in 1 2 3 4 5; do check "c$i is mode 0600" test "$(file_mode "c$i")" = 600; done
for i in 1 2 3 4; do check "c$i is at stage 4" grep -q ' stage=4 ' <(secagg-inspect "c$i"); done
check "c5 (dropped) stayed at stage 1" grep -q ' stage=1 ' <(secagg-inspect c5)
must secagg-collect setup --session U --clients 3 --threshold 2 --modulus-bits 8 --length 4
(umask 000 && secagg-keygen --params U/params.msg --id 1 --state u1 -o uadv1.msg)
check "state is 0600 even under umask 000" test "$(file_mode u1)" = 600
check "keygen -o writes the advertise message" grep -q '^uadv1.msg: advertise-keys round=0 ' <(secagg-inspect uadv1.msg)

section "secagg-inspect: summary, --json, --text, stdin, secrets"
for f in S/*.msg S/aggregate.vec c1 adv1.msg shares1.msg masked1.msg unmask1.msg; do
  expect_exit 0 secagg-inspect "$f" >out.txt
  check "inspect $f prints one summary line naming the file" \
    test "$(wc -l <out.txt)" = 1 -a "$(cut -d' ' -f1 out.txt)" = "$f:"
  expect_exit 0 secagg-inspect --json "$f" >out.json
  check "inspect --json $f is valid JSON with header fields" "$PY" -c '
import json, re, sys
d = json.load(open("out.json"))
assert {"type", "version", "round", "session", "sender", "recipient", "body"} <= set(d), d.keys()
assert d["version"] == 2
# A client round message shows its signature (not a secret); no other kind has one.
signed = d["type"] in ("advertise-keys", "share-keys", "masked-input", "unmask-shares")
assert ("signature" in d) == signed, d.get("signature")
assert not signed or re.fullmatch("[0-9a-f]{128}", d["signature"]), d["signature"]'
  case $f in
    adv*|shares*|masked*|unmask*|S/advert-*|S/share-keys-*|S/masked-*|S/unmask-*) check "summary of $f says it is signed" grep -q ' signature=present' out.txt ;;
    *) check "summary of $f has no signature" bash -c '! grep -q signature out.txt' ;;
  esac
done
expect_exit 0 secagg-inspect --json adv1.msg >adv.json
expect_exit 0 secagg-inspect --json S/roster.msg >roster.json
check "the advert and the roster carry the client's signing key (sig_pk)" "$PY" -c '
import json
a = json.load(open("adv.json"))["body"]
r = json.load(open("roster.json"))["body"]["clients"]
assert len(a["sig_pk"]) == 64 and a["sig_pk"] not in (a["c_pk"], a["s_pk"]), a
assert r[0]["id"] == 1 and r[0]["sig_pk"] == a["sig_pk"], r[0]
assert len({e["sig_pk"] for e in r}) == len(r), r' 
check "summary of params shows the parameters" \
  grep -q 'params round=- .* clients=5 threshold=3 neighbours=4 modulus=4294967296 length=1000 prg=aes128ctr$' \
  <(secagg-inspect S/params.msg)
expect_exit 0 secagg-inspect - <adv1.msg >out.txt
check "inspect - reads stdin" grep -q '^<stdin>: advertise-keys round=0 ' out.txt
expect_exit 0 secagg-inspect adv1.msg adv2.msg >out.txt
check "inspect prints one line per file" test "$(wc -l <out.txt)" = 2

expect_exit 0 secagg-inspect --json --show-secrets c1 >final.json
check "after round 4 the state holds no secret key, seed or share" "$PY" -c '
import json
b = json.load(open("final.json"))["body"]
for k in ("c_sk", "s_sk", "b_seed", "sig_seed"): assert set(b[k]) == {"0"}, (k, b[k])
assert not b["held"] and not b["mask_seeds"] and not b["share_keys"], b'
expect_exit 0 secagg-inspect --json c1.round1 >state.json
check "state --json: c_sk, s_sk, b_seed and held shares are redacted" "$PY" -c '
import json
b = json.load(open("state.json"))["body"]
assert b["c_sk"] == "redacted" and b["s_sk"] == "redacted" and b["b_seed"] == "redacted", b
assert b["sig_seed"] == "redacted" and len(b["sig_pk"]) == 64, b
assert b["mask_seeds"] and b["share_keys"], "no pairwise seeds or share keys"
for k in b["mask_seeds"] + b["share_keys"]:
    assert k["key"] == "redacted", k'
expect_exit 0 secagg-inspect --json c1.round2 >state2.json
check "state --json after round 2: held shares are redacted" "$PY" -c '
import json
b = json.load(open("state2.json"))["body"]
assert b["held"], "no held shares"
for h in b["held"]:
    assert h["key_share"]["y"] == "redacted" and h["mask_share"]["y"] == "redacted", h'
check "c_sk shows \"redacted\"" grep -q '"c_sk": "redacted"' state.json
expect_exit 0 secagg-inspect --json --show-secrets c1.round1 >secret.json
# Whatever --show-secrets adds, the plain --json shows as "redacted" (so a secret field added
# later is covered too), and no secret value appears anywhere in the plain output.
same_but_redacted() {  # same_but_redacted PLAIN.json SECRET.json SUMMARY.txt
  "$PY" - "$@" <<'PYEOF'
import json, sys
plain, secret = (json.load(open(f)) for f in sys.argv[1:3])
summary = open(sys.argv[3]).read()
secrets = []
def walk(p, s, path):
    if isinstance(p, dict):
        assert isinstance(s, dict) and p.keys() == s.keys(), path
        for k in p: walk(p[k], s[k], path + "." + k)
    elif isinstance(p, list):
        assert isinstance(s, list) and len(p) == len(s), path
        for i, (a, b) in enumerate(zip(p, s)): walk(a, b, f"{path}[{i}]")
    elif p != s:
        assert p == "redacted", f"{path}: differs with --show-secrets but is shown as {p!r}"
        secrets.append(str(s))
walk(plain, secret, "")
assert secrets, "--show-secrets revealed nothing"
text = json.dumps(plain) + summary
leaked = [x for x in secrets if x in text]
assert not leaked, f"secret values in the plain output: {leaked[:2]}"
PYEOF
}
secagg-inspect c1.round1 >state-summary.txt
check "state: every secret is redacted without --show-secrets" same_but_redacted state.json secret.json state-summary.txt
c_sk=$("$PY" -c 'import json; print(json.load(open("secret.json"))["body"]["c_sk"])')
s_sk=$("$PY" -c 'import json; print(json.load(open("secret.json"))["body"]["s_sk"])')
check "--show-secrets shows c_sk as 64 hex digits" grep -Eqx '[0-9a-f]{64}' <<<"$c_sk"
check "--show-secrets shows s_sk as 64 hex digits" grep -Eqx '[0-9a-f]{64}' <<<"$s_sk"
check "c_sk and s_sk differ" test "$c_sk" != "$s_sk"
check "without --show-secrets, c_sk appears nowhere" \
  bash -c "! grep -q '$c_sk' state.json && ! secagg-inspect c1.round1 | grep -q '$c_sk'"
expect_exit 0 secagg-inspect --json unmask1.msg >u.json
check "unmask shares are redacted without --show-secrets" "$PY" -c '
import json
b = json.load(open("u.json"))["body"]
ys = [s["share"]["y"] for s in b["self_mask"] + b["mask_key"]]
assert ys and all(y == "redacted" for y in ys), ys'
expect_exit 0 secagg-inspect --json --show-secrets unmask1.msg >us.json
secagg-inspect unmask1.msg >u-summary.txt
check "unmask: every secret is redacted without --show-secrets" same_but_redacted u.json us.json u-summary.txt
cp us.json u.json
check "unmask shares are shown with --show-secrets" "$PY" -c '
import json
b = json.load(open("u.json"))["body"]
ys = [s["share"]["y"] for s in b["self_mask"] + b["mask_key"]]
assert ys and all(y != "redacted" and len(y.split()) == 5 for y in ys), ys'
expect_exit 65 secagg-inspect --text adv1.msg
expect_err adv1.msg
expect_exit 64 secagg-inspect --json --text adv1.msg

section "variants: other moduli and PRGs, -o everywhere"
variant() {  # variant DIR N T LEN DROPS SETUP-ARGS...
  local dir=$1 n=$2 t=$3 len=$4 drops=$5
  shift 5
  # shellcheck disable=SC2086 # $drops is a list of options
  walk_setup "$dir" sum -n "$n" -t "$t" -l "$len" --seed "${#dir}" $drops -- "$@"
  # shellcheck disable=SC2046
  check_sum "$dir/sum.txt" $(walk_xfiles "$dir" U3) "$(walk_modulus "$dir")"
  secagg-inspect --text "$dir/S/aggregate.vec" >"$dir/agg.txt"
  check "$dir: aggregate.vec equals sum.txt" cmp -s "$dir/agg.txt" "$dir/sum.txt"
}
variant m1000003 5 3 1000 "--drop2 5" --modulus 1000003
check "params record R = 1000003" grep -q ' modulus=1000003 ' <(secagg-inspect m1000003/S/params.msg)
variant chacha 5 3 1000 "--drop2 5" --modulus-bits 32 --prg chacha20
check "params record prg=chacha20" grep -q ' prg=chacha20$' <(secagg-inspect chacha/S/params.msg)
variant chacha-odd 4 3 500 "--drop2 2" --modulus 1000003 --prg chacha20
variant aes-explicit 3 2 300 "" --modulus-bits 16 --prg aes128ctr
variant bits62 5 3 300 "--drop2 1,2" --modulus-bits 62
variant r2pow62 4 3 300 "--drop2 4" --modulus 4611686018427387904
variant bits1 3 2 100 "--drop2 3" --modulus-bits 1
variant r3 3 2 100 "" --modulus 3
variant n6 6 4 200 "--drop2 6" --modulus 65521

section "collect unmask without --text: a binary vector on -o"
walk_setup bin unmask -l 200 --drop2 3
expect_exit 0 secagg-collect unmask --session bin/S bin/unmask1.msg bin/unmask2.msg bin/unmask4.msg bin/unmask5.msg \
  -o bin/sum.vec
check "binary output equals S/aggregate.vec" cmp -s bin/sum.vec bin/S/aggregate.vec
check "the binary output is a vector message" grep -q '^bin/sum.vec: vector round=- .* length=200$' \
  <(secagg-inspect bin/sum.vec)
secagg-inspect --text bin/sum.vec >bin/sum.txt
# shellcheck disable=SC2046
check_sum bin/sum.txt $(walk_xfiles bin U3) "$R32"
