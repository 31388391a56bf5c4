#include "random.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include <sodium.h>

#include "error.hpp"
#include "le.hpp"

namespace secagg {
namespace {

// Deterministic mode: ChaCha20 keyed by BLAKE2b(env seed || context), read sequentially.
struct DeterministicStream {
  bool on = false;
  std::string seed;
  unsigned char key[crypto_stream_chacha20_ietf_KEYBYTES]{};
  uint64_t offset = 0;

  void rekey(std::string_view context) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, sizeof key);
    static constexpr char label[] = "secagg insecure deterministic rng";
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label), sizeof label);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(context.data()), context.size());
    crypto_generichash_final(&st, key, sizeof key);
    offset = 0;
  }

  void draw(void* out, size_t n) {
    // Sequential draws continue the stream: generate from the 64-byte block that holds `offset`.
    auto* dst = static_cast<unsigned char*>(out);
    static const unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    while (n > 0) {
      unsigned char block[64];
      uint64_t blk = offset / 64;
      size_t skip = offset % 64;
      std::memset(block, 0, sizeof block);
      crypto_stream_chacha20_ietf_xor_ic(block, block, sizeof block, nonce, static_cast<uint32_t>(blk), key);
      size_t take = std::min(n, sizeof block - skip);
      std::memcpy(dst, block + skip, take);
      sodium_memzero(block, sizeof block);
      dst += take;
      n -= take;
      offset += take;
    }
  }
};

DeterministicStream& det() {
  static DeterministicStream s;
  return s;
}
std::once_flag init_once;
std::mutex det_mutex;

}  // namespace

void crypto_init() {
  std::call_once(init_once, [] {
    if (sodium_init() < 0) throw Error(Exit::software, "libsodium failed to initialise");
    if (const char* env = std::getenv(kDeterministicEnv); env && *env) {
      auto& d = det();
      d.on = true;
      d.seed = env;
      d.rekey("");
      std::fprintf(stderr,
                   "secagg: warning: %s is set: randomness is deterministic and INSECURE (tests only)\n",
                   kDeterministicEnv);
    }
  });
}

bool deterministic_mode() {
  crypto_init();
  return det().on;
}

void random_context(std::string_view context) {
  crypto_init();
  std::lock_guard lock(det_mutex);
  if (det().on) det().rekey(context);
}

void random_bytes(void* out, size_t n) {
  crypto_init();
  if (det().on) {
    std::lock_guard lock(det_mutex);
    det().draw(out, n);
    return;
  }
  randombytes_buf(out, n);
}

uint64_t random_u64() {
  uint64_t v;
  random_u64s(&v, 1);
  return v;
}

void random_u64s(uint64_t* out, size_t n) {
  // Drawn in place as bytes, then each word decoded little-endian (a no-op on x86).
  random_bytes(out, n * sizeof *out);
  for (size_t i = 0; i < n; ++i) {
    uint8_t b[8];
    std::memcpy(b, &out[i], 8);
    out[i] = le::get64(b);
    sodium_memzero(b, sizeof b);  // the words are secret Shamir coefficients
  }
}

}  // namespace secagg
