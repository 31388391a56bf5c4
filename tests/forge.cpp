// forge: a test-only message forger for the CLI transcript tests (tests/cli/).
// It builds messages an honest server or client never sends, so the tests can
// check that every consumer refuses them. Not installed.
//
//   forge survivors PARAMS_MSG IDS OUT          survivors message (sender 0) for PARAMS_MSG's session;
//                                               IDS comma-separated ("" for none)
//   forge flip IN OFFSET OUT [SIGN]             flip the low bit of body byte OFFSET (negative: from the
//                                               end of the body) and re-seal with a valid checksum
//   forge retag IN OUT [--sender N] [--recipient N] [--session-from MSGFILE] [SIGN]
//                                               same body, header fields changed, re-sealed
//   forge copykeys FROM IN OUT SIGN             IN's advert with FROM's two X25519 keys (its own signing
//                                               key kept): a client posing with another's keys
//   forge setbyte IN OFFSET VALUE OUT           set raw file byte OFFSET (negative: from the end of the
//                                               file) to VALUE, WITHOUT re-sealing
//
// SIGN, required for a signed type (a client's round message) and refused for others:
//   --sign STATE        re-sign as the client of state file STATE (its signing key), so that a
//                       test of a semantic check is not stopped by the signature check first
//   --keep-signature    keep the original signature, which no longer matches: a message forged
//                       by someone who lacks the sender's key
//
// OUT may be "-" for stdout. Exit 0 on success, 2 on misuse or any error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "envelope.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "message_serialize.hpp"  // cereal: copykeys re-encodes a body (wire-private, for tests)
#include "messages.hpp"
#include "signature.hpp"

using namespace secagg;

namespace {

[[noreturn]] void usage() {
  std::fputs(
      "usage: forge survivors PARAMS_MSG IDS OUT\n"
      "       forge flip IN OFFSET OUT [--sign STATE | --keep-signature]\n"
      "       forge retag IN OUT [--sender N] [--recipient N] [--session-from MSGFILE] [--sign STATE | --keep-signature]\n"
      "       forge copykeys FROM IN OUT [--sign STATE | --keep-signature]\n"
      "       forge setbyte IN OFFSET VALUE OUT\n",
      stderr);
  std::exit(2);
}

long long to_int(const std::string& s, const char* what) {
  try {
    size_t pos = 0;
    long long v = std::stoll(s, &pos, 0);
    if (pos != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(std::string(what) + " '" + s + "' is not an integer");
  }
}

uint32_t to_u32(const std::string& s, const char* what) {
  long long v = to_int(s, what);
  if (v < 0 || v > 0xffffffffLL) throw std::runtime_error(std::string(what) + " '" + s + "' is out of range");
  return static_cast<uint32_t>(v);
}

Envelope open_file(const std::string& path) {
  Bytes b = read_file(path);
  return open_envelope(b, path);
}

// How a re-sealed message gets its signature (SIGN above).
struct Signing {
  std::string state;  // --sign STATE
  bool keep = false;  // --keep-signature
  // Takes --sign STATE or --keep-signature at a[i]; false if a[i] is neither.
  bool take(const std::vector<std::string>& a, size_t& i) {
    if (a[i] == "--keep-signature") {
      keep = true;
    } else if (a[i] == "--sign" && i + 1 < a.size()) {
      state = a[++i];
    } else {
      return false;
    }
    if (keep && !state.empty()) usage();
    return true;
  }
  Bytes seal(const Envelope& env, const std::string& in) const {
    if (!signed_type(env.type)) {
      if (keep || !state.empty()) throw std::runtime_error(in + ": not a signed message; drop the SIGN option");
      return seal_envelope(env);
    }
    if (keep) return seal_envelope(env);
    if (state.empty())
      throw std::runtime_error(in + ": a signed message: give --sign STATE (re-sign as that client) or "
                                    "--keep-signature (leave the old, now invalid, signature)");
    Envelope st_env = open_file(state);
    if (st_env.type != MsgType::client_state) throw std::runtime_error(state + ": not a client state file");
    ClientState st = decode_body<ClientState>(st_env, state);
    if (st.sig_seed == Secret32{})
      throw std::runtime_error(state + ": holds no signing key (the client has answered round 4)");
    return seal_envelope(env, [&](const Digest32& sum) { return sign_checksum(st.sig_seed, sum); });
  }
};

size_t resolve_offset(long long off, size_t size, const char* what) {
  long long idx = off < 0 ? static_cast<long long>(size) + off : off;
  if (idx < 0 || static_cast<unsigned long long>(idx) >= size)
    throw std::runtime_error(std::string(what) + " offset " + std::to_string(off) + " is outside [0, " +
                             std::to_string(size) + ")");
  return static_cast<size_t>(idx);
}

int cmd_survivors(const std::vector<std::string>& a) {
  if (a.size() != 3) usage();
  Envelope params = open_file(a[0]);
  if (params.type != MsgType::params) throw std::runtime_error(a[0] + ": not a params message");
  IdList ids;
  std::string list = a[1];
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(start, comma - start);
    if (!item.empty()) ids.ids.push_back(to_u32(item, "id"));
    start = comma + 1;
  }
  write_file_atomic(a[2], encode(MsgType::survivors, params.session, kServerId, kServerId, ids));
  return 0;
}

int cmd_flip(const std::vector<std::string>& a) {
  if (a.size() < 3) usage();
  Signing sign;
  for (size_t i = 3; i < a.size(); ++i)
    if (!sign.take(a, i)) usage();
  Envelope env = open_file(a[0]);
  size_t i = resolve_offset(to_int(a[1], "offset"), env.body.size(), "body");
  env.body[i] ^= 1;
  write_file_atomic(a[2], sign.seal(env, a[0]));
  return 0;
}

int cmd_retag(const std::vector<std::string>& a) {
  if (a.size() < 2) usage();
  Envelope env = open_file(a[0]);
  Signing sign;
  for (size_t i = 2; i < a.size(); ++i) {
    if (sign.take(a, i)) continue;
    if (i + 1 >= a.size()) usage();
    const std::string& flag = a[i];
    const std::string& val = a[++i];
    if (flag == "--sender")
      env.sender = to_u32(val, "sender");
    else if (flag == "--recipient")
      env.recipient = to_u32(val, "recipient");
    else if (flag == "--session-from")
      env.session = open_file(val).session;
    else
      usage();
  }
  write_file_atomic(a[1], sign.seal(env, a[0]));
  return 0;
}

int cmd_copykeys(const std::vector<std::string>& a) {
  if (a.size() < 4) usage();
  Signing sign;
  for (size_t i = 3; i < a.size(); ++i)
    if (!sign.take(a, i)) usage();
  Envelope from = open_file(a[0]), env = open_file(a[1]);
  if (from.type != MsgType::advertise_keys || env.type != MsgType::advertise_keys)
    throw std::runtime_error("copykeys takes two advertise-keys messages");
  AdvertiseKeys theirs = decode_body<AdvertiseKeys>(from, a[0]), mine = decode_body<AdvertiseKeys>(env, a[1]);
  mine.c_pk = theirs.c_pk;
  mine.s_pk = theirs.s_pk;
  std::ostringstream os(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(mine);
  }
  const std::string body = std::move(os).str();
  env.body.assign(body.begin(), body.end());
  write_file_atomic(a[2], sign.seal(env, a[1]));
  return 0;
}

int cmd_setbyte(const std::vector<std::string>& a) {
  if (a.size() != 4) usage();
  Bytes b = read_file(a[0]);
  size_t i = resolve_offset(to_int(a[1], "offset"), b.size(), "file");
  long long v = to_int(a[2], "value");
  if (v < 0 || v > 255) throw std::runtime_error("value " + a[2] + " is not a byte");
  b[i] = static_cast<uint8_t>(v);
  write_file_atomic(a[3], b);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage();
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    if (cmd == "survivors") return cmd_survivors(args);
    if (cmd == "flip") return cmd_flip(args);
    if (cmd == "retag") return cmd_retag(args);
    if (cmd == "setbyte") return cmd_setbyte(args);
    if (cmd == "copykeys") return cmd_copykeys(args);
    usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "forge: error: %s\n", e.what());
    return 2;
  }
}
