#include "session_dir.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "error.hpp"
#include "fileio.hpp"
#include "le.hpp"
#include "pack.hpp"
#include "message_file.hpp"
#include "params.hpp"
#include "vectors.hpp"

namespace secagg {
namespace {

constexpr const char* kMaskedSum = "masked-sum.vec";

// What a step is called in the message refusing to do it twice.
const char* step_name(Marker m) {
  switch (m) {
    case Marker::params: return "setup";
    case Marker::roster: return "round 0";
    case Marker::u2: return "round 1";
    case Marker::survivors: return "round 2";
    case Marker::consistency: return "round 3";
    case Marker::aggregate: return "round 4";
  }
  return "?";
}

Error done_already(const std::string& path, Marker m) {
  // setup collects nothing: say what running it twice means.
  if (m == Marker::params)
    return Error(Exit::cantcreat, fmt::format("{}: already exists: this session was set up already (use a new "
                                              "--session directory for a new session)",
                                              path));
  return Error(Exit::cantcreat, fmt::format("{}: already exists: {} of this session was collected already (each round "
                                            "is collected once)",
                                            path, step_name(m)));
}

std::optional<Bytes> read_if_there(const std::string& path, const Params& p) {
  if (!path_exists(path)) return std::nullopt;
  return read_message_file(path, &p);
}

}  // namespace

const char* SessionDir::name(Marker m) {
  switch (m) {
    case Marker::params: return "params.msg";
    case Marker::roster: return "roster.msg";
    case Marker::u2: return "u2.msg";
    case Marker::survivors: return "survivors.msg";
    case Marker::consistency: return "consistency.msg";
    case Marker::aggregate: return "aggregate.vec";
  }
  return "?";
}

std::string SessionDir::inbox_name(uint32_t id) { return fmt::format("inbox-{}.msg", id); }
std::string SessionDir::personal_name(Round r, uint32_t id) {
  switch (r) {
    case Round::r0: return fmt::format("roster-{}.msg", id);
    case Round::r2: return fmt::format("survivors-{}.msg", id);
    case Round::r3: return fmt::format("consistency-{}.msg", id);
    default: break;
  }
  throw Error(Exit::software, fmt::format("round {} has no per-client answers", r));
}
std::string SessionDir::masked_name(uint32_t id) { return fmt::format("masked-{}.msg", id); }
std::string SessionDir::unmask_name(uint32_t id) { return fmt::format("unmask-{}.msg", id); }
std::string SessionDir::masked_sum_path() const { return dir_ + "/" + kMaskedSum; }

bool SessionDir::has(Marker m) const { return path_exists(path(m)); }

void SessionDir::require_absent(Marker m) const {
  if (has(m)) throw done_already(path(m), m);
}

Envelope SessionDir::read(Marker m, MsgType type, const char* made_by) const {
  std::string p = path(m);
  if (!path_exists(p))
    throw Error(Exit::noinput, fmt::format("{}: missing (it is written by {})", p, made_by));
  Bytes b = read_message_file(p);
  Envelope env = open_envelope(b, p);
  if (env.type != type)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, expected {}", p, type_name(env.type), type_name(type)));
  return env;
}

std::pair<Params, SessionId> SessionDir::params() const {
  Envelope env = read(Marker::params, MsgType::params, "secagg-collect setup");
  // Checked on every read, not only by setup: the file may have been changed since.
  Params p = decode_body<Params>(env, path(Marker::params));
  check_params_file(p, path(Marker::params));
  return {p, env.session};
}

Roster SessionDir::roster(const SessionId& sid) const {
  Envelope env = read(Marker::roster, MsgType::roster, "secagg-collect keys");
  if (env.session != sid) throw Error(Exit::data, path(Marker::roster) + ": belongs to another session");
  return decode_body<Roster>(env, path(Marker::roster));
}

std::vector<uint32_t> SessionDir::u2(const SessionId& sid) const {
  Envelope env = read(Marker::u2, MsgType::server_round1, "secagg-collect shares");
  if (env.session != sid) throw Error(Exit::data, path(Marker::u2) + ": belongs to another session");
  return decode_body<IdList>(env, path(Marker::u2)).ids;
}

std::vector<uint32_t> SessionDir::survivors(const SessionId& sid) const {
  Envelope env = read(Marker::survivors, MsgType::survivors, "secagg-collect masked");
  if (env.session != sid) throw Error(Exit::data, path(Marker::survivors) + ": belongs to another session");
  return decode_body<IdList>(env, path(Marker::survivors)).ids;
}

Consistency SessionDir::consistency(const SessionId& sid) const {
  Envelope env = read(Marker::consistency, MsgType::consistency, "secagg-collect consistency");
  if (env.session != sid) throw Error(Exit::data, path(Marker::consistency) + ": belongs to another session");
  return decode_body<Consistency>(env, path(Marker::consistency));
}

std::vector<uint64_t> SessionDir::masked_sum(const Params& p, const SessionId& sid) const {
  const std::string f = masked_sum_path();
  return read_vector(read_message_file(f, &p), p.ring(), p.length, &sid, f);
}

std::vector<uint64_t> SessionDir::masked_sum_range(const Params& p, const SessionId& sid, uint64_t begin,
                                                   uint64_t end) const {
  const std::string f = masked_sum_path();
  if (!path_exists(f))
    throw Error(Exit::noinput, fmt::format("{}: missing (it is written by round 2: secagg-collect masked)", f));
  if (begin >= end || end > p.length) throw Error(Exit::software, "masked_sum_range: a range outside the vector");
  const Modulus m = p.ring();
  const unsigned bits = m.bits();
  // The body as encode_ring_vector writes it: the endianness byte, modulus, length and the size
  // tag of the packed bytes (8 bytes each), then the packed elements.
  constexpr uint64_t kPrefix = 1 + 8 + 8 + 8;
  const uint64_t packed = packed_size(p.length, bits);
  auto bad = [&](const std::string& what) { return Error(Exit::data, fmt::format("{}: {}", f, what)); };
  InputFile in(f, true);
  Bytes head;
  in.read_into(head, kHeaderBytes);
  if (head.size() < kHeaderBytes && !looks_like_envelope(head)) throw bad("not a secagg message (no SAGG magic)");
  if (head.size() < kHeaderBytes) throw bad(fmt::format("truncated: {} bytes", head.size()));
  const uint64_t size = message_size(head, kPrefix + packed, f);
  if (static_cast<MsgType>(head[6]) != MsgType::vector)
    throw bad(fmt::format("is a message of type {}, not a vector", type_name(static_cast<MsgType>(head[6]))));
  const uint64_t body = size - kHeaderBytes - kChecksumBytes;
  if (body != kPrefix + packed)
    throw bad(fmt::format("its body of {} bytes is not a vector of the session's {} elements", body, p.length));
  if (!std::equal(sid.begin(), sid.end(), head.begin() + 8)) throw bad("belongs to another session");
  // Whole groups of 8 elements start on a byte: the bytes of elements [a, e) are read, a and e
  // (unless it is the end) multiples of 8, and unpacked as a vector of their own.
  const uint64_t a = begin & ~uint64_t{7}, e = std::min((end + 7) & ~uint64_t{7}, p.length);
  const uint64_t from = kHeaderBytes + kPrefix + a * bits / 8, to = from + packed_size(e - a, bits);
  Bytes prefix(head.begin(), head.end()), slice;
  slice.reserve(to - from);
  uint64_t at = kHeaderBytes;  // bytes of the file hashed so far
  Bytes chunk;
  bool first = true;
  const Digest32 sum = blake2b_256_chunks([&]() -> std::span<const uint8_t> {
    if (first) {
      first = false;
      return head;
    }
    const uint64_t want = std::min<uint64_t>(uint64_t{1} << 20, size - kChecksumBytes - at);
    chunk.clear();
    if (want == 0) return {};
    in.read_into(chunk, want);
    if (chunk.size() < want) throw bad(fmt::format("truncated: the header announces {} bytes", size));
    const uint64_t lo = std::max(at, from), hi = std::min(at + want, to);
    if (lo < hi)
      slice.insert(slice.end(), chunk.begin() + static_cast<ptrdiff_t>(lo - at),
                   chunk.begin() + static_cast<ptrdiff_t>(hi - at));
    if (at < kHeaderBytes + kPrefix)
      prefix.insert(prefix.end(), chunk.begin(),
                    chunk.begin() + static_cast<ptrdiff_t>(std::min(want, kHeaderBytes + kPrefix - at)));
    at += want;
    return chunk;
  });
  Bytes trailer;
  in.read_into(trailer, kChecksumBytes + 1);
  if (trailer.size() < kChecksumBytes) throw bad(fmt::format("truncated: the header announces {} bytes", size));
  if (trailer.size() > kChecksumBytes) throw bad("unexpected bytes after the end of the message");
  if (!std::equal(sum.begin(), sum.end(), trailer.begin())) throw bad("checksum mismatch: the message is corrupted");
  const uint8_t* b = prefix.data() + kHeaderBytes;
  if (b[0] != 1 || le::get64(b + 1) != m.R || le::get64(b + 9) != p.length || le::get64(b + 17) != packed)
    throw bad(fmt::format("is not a vector modulo {} of {} elements", m.R, p.length));
  std::vector<uint64_t> v;
  try {
    v = unpack(slice, e - a, bits);
  } catch (const Error& err) {
    throw bad(err.what());
  }
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] >= m.R) throw bad(fmt::format("element {} is {}, outside [0, {})", a + i, v[i], m.R));
  v.erase(v.begin() + static_cast<ptrdiff_t>(end - a), v.end());
  v.erase(v.begin(), v.begin() + static_cast<ptrdiff_t>(begin - a));
  return v;
}

Marker SessionDir::marker_of(Round r) {
  switch (r) {
    case Round::r0: return Marker::roster;
    case Round::r1: return Marker::u2;
    case Round::r2: return Marker::survivors;
    case Round::r3: return Marker::consistency;
    case Round::r4: return Marker::aggregate;
    case Round::none: break;
  }
  throw Error(Exit::software, "no step ends a message of no round");
}

bool SessionDir::keeps_messages(Round r) { return r == Round::r2 || r == Round::r4; }

std::string SessionDir::message_path(Round r, uint32_t id) const {
  if (keeps_messages(r)) return transcript_path(r, id);
  throw Error(Exit::software, fmt::format("round {}'s client messages are not saved as they arrive", r));
}

std::string SessionDir::transcript_name(Round r, uint32_t id) {
  switch (r) {
    case Round::r0: return fmt::format("advert-{}.msg", id);
    case Round::r1: return fmt::format("share-keys-{}.msg", id);
    case Round::r2: return masked_name(id);
    case Round::r3: return fmt::format("signature-{}.msg", id);
    case Round::r4: return unmask_name(id);
    case Round::none: break;
  }
  throw Error(Exit::software, "no client message of no round");
}

std::optional<Bytes> SessionDir::saved_message(Round r, uint32_t id, const Params& p) const {
  return read_if_there(message_path(r, id), p);
}

SessionDir::Writer SessionDir::begin(Marker step) const { return Writer(*this, step); }

SessionDir::Writer::Writer(const SessionDir& s, Marker m) : s_(&s), step_(m) {
  // Without a descriptor to lock (a directory that cannot be opened for reading), or on a file
  // system without flock, the marker's exclusive creation is still the guard.
  lock_fd_ = ::open(s.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock_fd_ >= 0)
    while (::flock(lock_fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  try {
    s.require_absent(m);
  } catch (...) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
    throw;
  }
}

SessionDir::Writer::Writer(Writer&& o) noexcept : s_(o.s_), step_(o.step_), lock_fd_(o.lock_fd_) { o.lock_fd_ = -1; }

SessionDir::Writer::~Writer() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // lets go of the lock
}

void SessionDir::Writer::inbox(uint32_t id, std::span<const uint8_t> msg) const {
  write_file_atomic(s_->inbox_path(id), msg);
}
void SessionDir::Writer::personal(Round r, uint32_t id, std::span<const uint8_t> msg) const {
  write_file_atomic(s_->personal_path(r, id), msg);
}
void SessionDir::Writer::message(uint32_t id, std::span<const uint8_t> msg) const {
  for (Round r : kActiveRounds)
    if (keeps_messages(r) && marker_of(r) == step_) return write_file_atomic(s_->message_path(r, id), msg);
  throw Error(Exit::software, fmt::format("a client message was written by the writer of {}", step_name(step_)));
}
void SessionDir::Writer::transcript(Round r, uint32_t id, std::span<const uint8_t> msg) const {
  write_file_atomic(s_->transcript_path(r, id), msg);
}
void SessionDir::Writer::masked_sum(std::span<const uint8_t> msg) const {
  write_file_atomic(s_->masked_sum_path(), msg);
}

void SessionDir::Writer::finish(std::span<const uint8_t> msg) const {
  const Marker m = step_;
  const std::string f = s_->path(m);
  try {
    write_file_atomic(f, msg, 0644, Overwrite::refuse);
  } catch (const Error& e) {
    // Created since the check by a run that does not take the lock: refused in the same words.
    if (e.code() == Exit::cantcreat && path_exists(f)) throw done_already(f, m);
    throw;
  }
}

}  // namespace secagg
