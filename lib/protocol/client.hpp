// The client side of the protocol, one function per round (protocol paper,
// Protocol 4). Each validates everything it is given before it changes
// anything: on any error the state passed in is left as it was, so a tool
// that saves the state only after success never records a half-done round.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "messages.hpp"
#include "progress.hpp"

namespace secagg {

// Checks a client state read from a file (which a tamperer could re-checksum): valid params, a
// known stage, the id in [1, n], sorted unique id lists. Throws Error(Exit::data) naming origin.
void validate_state(const ClientState& st, const std::string& origin);

// What a client of an active session proves its identity with in round 0: its long-term
// identity, the CA's certificate of it (read from cert_origin) and the time to check expiry at.
struct IdentityProof {
  const Identity& identity;
  const Certificate& cert;
  std::string cert_origin;
  uint64_t now = 0;
};

// Round 0 (AdvertiseKeys): two fresh X25519 key pairs and an Ed25519 signing key; returns the
// new state. The params must be valid (validate_params) and id in [1, n]. An active session needs
// a proof (its certificate must be the session CA's, for id, unexpired, of proof's identity:
// Error(Exit::usage) otherwise), and the advert carries the attestation (identity.hpp, attest);
// any other session takes none.
ClientState client_keygen(const Params& params, const SessionId& session, uint32_t id,
                          const IdentityProof* proof = nullptr);
// The advertise-keys message, signed with the signing key it advertises. Every later message
// of the client is signed with that key too (signature.hpp).
Bytes client_advertise(const ClientState& st);
// keygen run again on an existing state (origin names it): the advert the state recorded, byte
// for byte, if the state is of this session (same params) and id and has not shared yet.
// Another session or id: Exit::cantcreat; a later stage: Exit::aborted.
Bytes client_readvertise(const ClientState& st, const Params& params, const SessionId& session, uint32_t id,
                         const std::string& origin);

// Round 1 (ShareKeys): check the roster U1 (it must list this client with all three of its
// keys, and no key twice; in an active session every entry's attestation must verify against the
// session's CA, or the whole roster is refused, Exit::data naming the client), pick the self-mask seed b, share b and the mask
// secret key among U1, and encrypt each share for its holder.
// The X25519 agreements with every neighbour (share keys and pairwise mask seeds, both kept in
// the state) run on `threads` threads.
Bytes client_share(ClientState& st, const Envelope& roster, const std::string& origin, unsigned threads = 1);

// Round 2 (MaskedInputCollection): check and decrypt the inbox (defining U2; a bundle of another
// client that does not open is left out, unopened_shares), then
// y = x + PRG(b) + sum over v in U2 of sign(u, v) PRG(s_uv), mod R. `progress` (if set) hears
// the elements of y finished, of x.size(), while the masks are expanded.
Bytes client_mask(ClientState& st, const Envelope& inbox, const std::string& origin, std::span<const uint64_t> x,
                  unsigned threads, const ProgressFn& progress = {});

// Round 4 (Unmasking): check U3 (subset of U2, at least t, includes this client, first
// request), then reveal shares of b_v for v in U3 and of the mask key of v in U2 \ U3. The
// state drops the signing key: this is the client's last message. Refusals are Error(Exit::aborted).
// A valid U3 that leaves this client out means round 2 ended without its masked input, which is
// never to be sent again: that refusal first erases st.input (see forgot_input), for the caller
// to commit, so that the state stops holding a digest that tests guesses of the input.
// In an active session (docs/security.md, "Active mode") the client must have signed U3 in round 3
// (client_sign) and reveals its shares only against a consistency message that holds at least t
// signatures, by members of U3, over exactly that U3, all of them valid; without one, or with
// any other, it refuses (Exit::aborted) and reveals nothing. A consistency message in any other
// session is a usage error.
Bytes client_unmask(ClientState& st, const Envelope& survivors, const std::string& origin,
                    const Envelope* consistency = nullptr, const std::string& consistency_origin = {});
// Round 3 (ConsistencyCheck), active sessions only: check U3 as round 4 would, then sign (session,
// id, U3) with the round-0 signing key (identity.hpp, consistency_signed_bytes). Once signed, the
// client signs no other U3 in this session (Exit::aborted); the same U3 gets the same message.
Bytes client_sign(ClientState& st, const Envelope& survivors, const std::string& origin);
// The clients of U2 whose round-1 shares did not open for this client in round 2 (undecryptable,
// malformed, or in an active session not what their dealer committed to): it holds none of their
// shares and reports them missing in its round-4 answer.
std::vector<uint32_t> unopened_shares(const ClientState& st);
// True if st is at the masked stage with its input digest erased (round 2 ended without it).
bool forgot_input(const ClientState& st);

}  // namespace secagg
