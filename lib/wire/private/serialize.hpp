// cereal glue: byte fields render as hex in JSON and as raw bytes in binary;
// secrets render as "redacted" in JSON unless the caller asks to see them;
// vectors read from untrusted bytes cannot announce more elements than the
// body has bytes, so a forged length never turns into a huge allocation.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <streambuf>
#include <string>
#include <type_traits>
#include <vector>

#include <cereal/cereal.hpp>

#include "bytes.hpp"
#include "error.hpp"

namespace secagg::ser {

// Set while rendering JSON: show secret fields instead of "redacted".
inline thread_local bool show_secrets = false;
// Set while decoding a body: upper bound on any element count it can hold.
inline thread_local uint64_t count_limit = UINT64_MAX;
// Set while decoding a body: its stream, to tell whether optional trailing fields follow (an
// active session's attestations, which an honest-but-curious session's messages lack).
inline thread_local std::streambuf* input = nullptr;
inline bool more_input() { return input != nullptr && input->in_avail() > 0; }

template <class A>
inline constexpr bool is_text = cereal::traits::is_text_archive<A>::value;

template <class A>
inline constexpr bool is_input = std::is_base_of_v<cereal::detail::InputArchiveBase, A>;

// Fixed-size bytes (keys, nonces).
template <size_t N>
struct Fixed {
  std::array<uint8_t, N>& ref;
  bool secret = false;
};
template <size_t N>
Fixed<N> fixed(std::array<uint8_t, N>& a) { return {a, false}; }
inline Fixed<32> secret(Secret32& s) { return {s.b, true}; }

// Text archives (JSON for reading) get one hex string per field; binary archives raw bytes.
template <class A, size_t N, std::enable_if_t<is_text<A>, int> = 0>
std::string save_minimal(const A&, const Fixed<N>& f) {
  return f.secret && !show_secrets ? std::string("redacted") : to_hex(f.ref);
}
template <class A, size_t N, std::enable_if_t<!is_text<A>, int> = 0>
void save(A& ar, const Fixed<N>& f) {
  ar(cereal::binary_data(f.ref.data(), N));
}
template <class A, size_t N, std::enable_if_t<!is_text<A>, int> = 0>
void load(A& ar, Fixed<N>& f) {
  ar(cereal::binary_data(f.ref.data(), N));
}

// A digest held by value, for lists of digests (a Merkle proof): hex in text archives.
struct DigestField {
  std::array<uint8_t, 32> d{};
};
template <class A, std::enable_if_t<is_text<A>, int> = 0>
std::string save_minimal(const A&, const DigestField& f) {
  return to_hex(f.d);
}
template <class A, std::enable_if_t<!is_text<A>, int> = 0>
void save(A& ar, const DigestField& f) {
  ar(cereal::binary_data(f.d.data(), f.d.size()));
}
template <class A, std::enable_if_t<!is_text<A>, int> = 0>
void load(A& ar, DigestField& f) {
  ar(cereal::binary_data(f.d.data(), f.d.size()));
}

// Variable-length bytes (ciphertexts, packed vectors). JSON shows at most 64 bytes of them.
struct Blob {
  Bytes& ref;
};
inline Blob blob(Bytes& b) { return {b}; }
template <class A, std::enable_if_t<is_text<A>, int> = 0>
std::string save_minimal(const A&, const Blob& b) {
  if (b.ref.size() > 64)
    return to_hex(std::span(b.ref).first(64)) + "... (" + std::to_string(b.ref.size()) + " bytes)";
  return to_hex(b.ref);
}
template <class A, std::enable_if_t<!is_text<A>, int> = 0>
void save(A& ar, const Blob& b) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(b.ref.size())));
  ar(cereal::binary_data(b.ref.data(), b.ref.size()));
}
template <class A, std::enable_if_t<!is_text<A>, int> = 0>
void load(A& ar, Blob& b) {
  cereal::size_type n;
  ar(cereal::make_size_tag(n));
  if (n > count_limit) throw Error(Exit::data, "a byte field announces more bytes than the message holds");
  b.ref.resize(n);
  ar(cereal::binary_data(b.ref.data(), n));
}

// Secret field elements (Shamir share values).
template <size_t N>
struct SecretWords {
  std::array<uint64_t, N>& ref;
};
template <class A, size_t N, std::enable_if_t<is_text<A>, int> = 0>
std::string save_minimal(const A&, const SecretWords<N>& w) {
  if (!show_secrets) return "redacted";
  std::string out;
  for (size_t i = 0; i < N; ++i) out += (i ? " " : "") + std::to_string(w.ref[i]);
  return out;
}
template <class A, size_t N, std::enable_if_t<!is_text<A>, int> = 0>
void save(A& ar, const SecretWords<N>& w) {
  for (auto v : w.ref) ar(v);
}
template <class A, size_t N, std::enable_if_t<!is_text<A>, int> = 0>
void load(A& ar, SecretWords<N>& w) {
  for (auto& v : w.ref) ar(v);
}

// A vector whose length is checked against the body size before it is allocated.
template <class T>
struct List {
  std::vector<T>& ref;
};
template <class T>
List<T> list(std::vector<T>& v) { return {v}; }

template <class A, class T>
void save(A& ar, const List<T>& l) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(l.ref.size())));
  for (auto& e : l.ref) ar(e);
}
template <class A, class T>
void load(A& ar, List<T>& l) {
  cereal::size_type n;
  ar(cereal::make_size_tag(n));
  // Every entry takes at least min(sizeof(T), 32) bytes on the wire (true of every list type in
  // the format), so a forged count cannot make the allocation outgrow the body by much.
  if (n > count_limit / std::min<size_t>(sizeof(T), 32))
    throw Error(Exit::data, "a list announces more entries than the message holds");
  l.ref.clear();
  l.ref.resize(n);
  for (auto& e : l.ref) ar(e);
}

}  // namespace secagg::ser
