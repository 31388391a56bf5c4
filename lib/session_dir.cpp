#include "session_dir.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "fileio.hpp"
#include "params.hpp"

namespace secagg {

Envelope SessionDir::read(const std::string& name, MsgType type, const char* made_by) const {
  std::string p = path(name);
  if (!path_exists(p))
    throw Error(Exit::noinput, fmt::format("{}: missing (it is written by {})", p, made_by));
  Bytes b = read_message_file(p);
  Envelope env = open_envelope(b, p);
  if (env.type != type)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, expected {}", p, type_name(env.type), type_name(type)));
  return env;
}

std::pair<Params, SessionId> SessionDir::params() const {
  Envelope env = read("params.msg", MsgType::params, "secagg-collect setup");
  // Checked on every read, not only by setup: the file may have been changed since.
  Params p = decode_body<Params>(env, path("params.msg"));
  check_params_file(p, path("params.msg"));
  return {p, env.session};
}

Roster SessionDir::roster(const SessionId& sid) const {
  Envelope env = read("roster.msg", MsgType::roster, "secagg-collect keys");
  if (env.session != sid) throw Error(Exit::data, path("roster.msg") + ": belongs to another session");
  return decode_body<Roster>(env, path("roster.msg"));
}

std::vector<uint32_t> SessionDir::u2(const SessionId& sid) const {
  Envelope env = read("u2.msg", MsgType::server_round1, "secagg-collect shares");
  if (env.session != sid) throw Error(Exit::data, path("u2.msg") + ": belongs to another session");
  return decode_body<IdList>(env, path("u2.msg")).ids;
}

std::vector<uint32_t> SessionDir::survivors(const SessionId& sid) const {
  Envelope env = read("survivors.msg", MsgType::survivors, "secagg-collect masked");
  if (env.session != sid) throw Error(Exit::data, path("survivors.msg") + ": belongs to another session");
  return decode_body<IdList>(env, path("survivors.msg")).ids;
}

void SessionDir::require_absent(const std::string& name, const char* round) const {
  if (!path_exists(path(name))) return;
  // params.msg is written by setup, which collects nothing: say what running it twice means.
  if (name == "params.msg")
    throw Error(Exit::cantcreat, fmt::format("{}: already exists: this session was set up already (use a new "
                                             "--session directory for a new session)", path(name)));
  throw Error(Exit::cantcreat, fmt::format("{}: already exists: {} of this session was collected already (each round "
                                           "is collected once)", path(name), round));
}

}  // namespace secagg
