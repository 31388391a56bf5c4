// All randomness in secagg comes through here: libsodium's randombytes_buf,
// or, in the insecure deterministic test mode, a ChaCha20 stream seeded from
// the environment so golden transcripts can be reproduced byte for byte.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace secagg {

// Name of the environment variable that turns on the deterministic mode.
inline constexpr const char* kDeterministicEnv = "SECAGG_INSECURE_DETERMINISTIC_SEED";

// Initialise libsodium (idempotent). Throws Error(Exit::software) on failure.
void crypto_init();

// True when the insecure deterministic mode is on.
bool deterministic_mode();

// Bind the deterministic stream to a context (tool name and client id, say),
// so two processes with the same seed but different roles draw different
// bytes. Has no effect outside the deterministic mode.
void random_context(std::string_view context);

void random_bytes(void* out, size_t n);
// Random 64-bit words, each drawn as 8 bytes read little-endian, so the words of the
// deterministic mode are the same on every host (docs/security.md, "Randomness").
uint64_t random_u64();
void random_u64s(uint64_t* out, size_t n);

}  // namespace secagg
