#!/usr/bin/env bash
# make bench: time client masking against the raw PRG, for both PRGs, one and all cores.
set -euo pipefail
BIN=$(cd "${SECAGG_BIN:?}" && pwd)
for prg in aes128ctr chacha20; do
  for threads in 1 "$(nproc)"; do
    "$BIN/mask_bench" --tools "$BIN" --prg "$prg" --threads "$threads" --neighbours 100 --length 100000 --bits 32
  done
done
