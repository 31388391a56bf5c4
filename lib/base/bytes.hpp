// Byte strings, fixed-size secrets that wipe themselves, and hex helpers.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

namespace secagg {

using Bytes = std::vector<uint8_t>;

// An allocator that wipes memory before handing it back, for buffers that hold
// secrets (decrypted shares, state files). Reallocation wipes the old buffer too.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, size_t n) noexcept {
    sodium_memzero(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};
using SecretBytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;
using Key32 = std::array<uint8_t, 32>;

// A 32-byte secret (private key, seed). Wiped with sodium_memzero when it dies.
struct Secret32 {
  std::array<uint8_t, 32> b{};
  Secret32() = default;
  Secret32(const Secret32&) = default;
  Secret32& operator=(const Secret32&) = default;
  ~Secret32() { sodium_memzero(b.data(), b.size()); }
  uint8_t* data() { return b.data(); }
  const uint8_t* data() const { return b.data(); }
  static constexpr size_t size() { return 32; }
  bool operator==(const Secret32& o) const { return sodium_memcmp(b.data(), o.b.data(), 32) == 0; }
};

std::string to_hex(std::span<const uint8_t> bytes);
// Throws Error(Exit::data) on odd length or a non-hex digit.
Bytes from_hex(std::string_view hex);

}  // namespace secagg
