// An audit of a session directory, as a third party would make it (docs/security.md, "Auditing a
// session"): every round is replayed through the round engine from the client messages the
// directory keeps (advert-, share-keys-, masked-, signature-, unmask-<id>.msg), so that each
// message's checksum, signature and body is checked as the server checks it (certificates against
// the session's CA, round-3 signatures over U3, round-4 shares against their commitments), the
// sets and thresholds hold, and each file the server wrote (roster.msg, the inboxes, u2.msg,
// masked-sum.vec, survivors.msg, consistency.msg, aggregate.vec) must be byte for byte what the
// replay makes of those messages.
#pragma once
#include <string>
#include <vector>

#include "session_dir.hpp"

namespace secagg {

struct AuditCheck {
  std::string what;  // "round 1", "params.msg", ...
  bool ok = false;
  std::string detail;  // one line
};

struct AuditReport {
  std::vector<AuditCheck> checks;
  bool ok() const;
  // The first check that failed (the report must not be ok).
  const AuditCheck& first_failure() const;
};

// Checks the session in s round by round until the first round without its marker (a session that
// ended early: the report says where) or the first failure (the report stops there).
AuditReport audit_session(const SessionDir& s, unsigned threads);

}  // namespace secagg
