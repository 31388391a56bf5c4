#include "audit.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "fileio.hpp"
#include "message_file.hpp"
#include "params.hpp"
#include "server_session.hpp"
#include "vectors.hpp"

namespace secagg {

bool AuditReport::ok() const {
  for (const AuditCheck& c : checks)
    if (!c.ok) return false;
  return true;
}

const AuditCheck& AuditReport::first_failure() const {
  for (const AuditCheck& c : checks)
    if (!c.ok) return c;
  throw Error(Exit::software, "the audit found nothing wrong");
}

namespace {

const char* round_message_name(Round r) {
  switch (r) {
    case Round::r0: return "adverts";
    case Round::r1: return "share-keys messages";
    case Round::r2: return "masked inputs";
    case Round::r3: return "signatures over U3";
    case Round::r4: return "unmasking answers";
    case Round::none: break;
  }
  return "messages";
}

// What round r writes besides its marker, as (file, bytes the replay made).
std::vector<std::pair<std::string, Bytes>> written_by(const SessionDir& s, const ServerSession& e,
                                                     const RoundResult& r) {
  std::vector<std::pair<std::string, Bytes>> out;
  if (r.round == Round::r1)
    for (const auto& [v, inbox] : r.inboxes) out.emplace_back(s.inbox_path(v), inbox);
  if (r.personal)
    for (uint32_t v : r.in) out.emplace_back(s.personal_path(r.round, v), r.personal(v));
  if (r.round == Round::r2)
    out.emplace_back(s.masked_sum_path(), vector_message(e.masked_sum(), e.params().ring(), e.session()));
  out.emplace_back(s.path(SessionDir::marker_of(r.round)), r.marker);
  return out;
}

}  // namespace

AuditReport audit_session(const SessionDir& s, unsigned threads) {
  AuditReport rep;
  auto add = [&](std::string what, bool ok, std::string detail) {
    rep.checks.push_back({std::move(what), ok, std::move(detail)});
    return ok;
  };
  Params p;
  SessionId sid{};
  try {
    std::tie(p, sid) = s.params();
  } catch (const Error& e) {
    if (e.code() == Exit::noinput) throw;  // not a session directory: nothing to audit
    add("params.msg", false, e.what());
    return rep;
  }
  add("params.msg", true,
      fmt::format("valid parameters: n = {}, t = {}, {} session{}", p.clients, p.threshold,
                  threat_model_name(p.threat),
                  p.active() ? fmt::format(", C = {}, CA {}", p.corrupt, to_hex(p.ca_pk).substr(0, 16) + "...")
                             : std::string()));
  ServerSession e(p, sid);
  for (Round r : p.active() ? std::span<const Round>(kActiveRounds) : std::span<const Round>(kRounds)) {
    const std::string what = fmt::format("round {}", r);
    const std::string marker = s.path(SessionDir::marker_of(r));
    if (!path_exists(marker)) {
      add(what, true, fmt::format("not done: {} is absent (the session ended before this round)", marker));
      break;
    }
    // The round's messages: one file per client the round expects, each from that client.
    std::vector<Incoming> in;
    try {
      for (uint32_t id : e.expected()) {
        const std::string f = s.transcript_path(r, id);
        if (!path_exists(f)) continue;
        MessageLimits limits;
        limits.params = &p;
        limits.type = client_message(r);
        Envelope env = open_envelope(read_message_file(f, limits), f);
        if (env.sender != id)
          throw Error(Exit::data, fmt::format("{}: holds client {}'s message, not client {}'s", f, env.sender, id));
        in.push_back({f, std::move(env)});
      }
      e.accept_all(in, threads);
    } catch (const Error& err) {
      add(what, false, err.what());
      return rep;
    }
    RoundResult res;
    try {
      res = e.close(threads);
    } catch (const Error& err) {
      add(what, false, fmt::format("its {} do not make a round: {}", round_message_name(r), err.what()));
      return rep;
    }
    for (const auto& [file, made] : written_by(s, e, res)) {
      Bytes stored;
      try {
        stored = read_file(file, made.size() + (uint64_t{1} << 20));  // a longer file differs: say so below
      } catch (const Error& err) {
        add(what, false, err.what());
        return rep;
      }
      if (stored != made) {
        add(what, false, fmt::format("{} is not what the round's {} make", file, round_message_name(r)));
        return rep;
      }
    }
    std::string detail = fmt::format("{} {} from {}, each checked as the server checks it; the round's files are "
                                      "exactly what they make",
                                      in.size(), round_message_name(r), id_list_text(res.in));
    if (r == Round::r0 && p.active()) detail += " (every advert certified by the session's CA)";
    add(what, true, detail);
    for (const std::string& w : round_warnings(res)) add(what, true, "noted: " + w.substr(w.find(": ") + 2));
  }
  return rep;
}

}  // namespace secagg
