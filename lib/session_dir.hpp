// The server's session directory: its state between rounds and the audit
// transcript of the session. Every file in it is a secagg message.
//
//   params.msg          setup            session parameters
//   roster.msg          round 0          U1 and the advertised keys
//   inbox-<id>.msg      round 1          the shares addressed to client <id>
//   u2.msg              round 1          U2 (written last: marks round 1 as collected)
//   masked-<id>.msg     round 2          client <id>'s masked input, as received
//   masked-sum.vec      round 2          the sum mod R of the masked inputs of U3
//   survivors.msg       round 2          U3 (written last: marks round 2 as collected)
//   unmask-<id>.msg     round 4          client <id>'s unmasking answer, as received
//   aggregate.vec       round 4          the sum of the inputs of U3, mod R
#pragma once
#include <string>
#include <vector>

#include "messages.hpp"

namespace secagg {

class SessionDir {
 public:
  explicit SessionDir(std::string dir) : dir_(std::move(dir)) {}
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string inbox_path(uint32_t id) const { return path("inbox-" + std::to_string(id) + ".msg"); }
  std::string masked_path(uint32_t id) const { return path("masked-" + std::to_string(id) + ".msg"); }
  std::string unmask_path(uint32_t id) const { return path("unmask-" + std::to_string(id) + ".msg"); }

  // Each reads and checks one file; a missing file is Exit::noinput with a hint
  // naming the step that makes it.
  Envelope read(const std::string& name, MsgType type, const char* made_by) const;
  // Refuses (Exit::data) parameters that validate_params refuses.
  std::pair<Params, SessionId> params() const;
  Roster roster(const SessionId& sid) const;
  std::vector<uint32_t> u2(const SessionId& sid) const;
  std::vector<uint32_t> survivors(const SessionId& sid) const;

  // Refuses (Exit::cantcreat) when a round's marker file already exists: rounds are collected once.
  void require_absent(const std::string& name, const char* round) const;

 private:
  std::string dir_;
};

}  // namespace secagg
