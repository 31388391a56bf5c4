#include "net/notice.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"
#include "tokens.hpp"

namespace secagg::net {

std::string_view notice_kind_name(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::retry: return "retry";
    case NoticeKind::aborted: return "aborted";
    case NoticeKind::refused: return "refused";
    case NoticeKind::stopped: return "stopped";
  }
  return "unknown";
}

Bytes notice_frame(const SessionId& session, uint32_t recipient, NoticeKind kind,
                   std::chrono::milliseconds retry_after, std::string_view reason) {
  if (reason.size() > kMaxNoticeReason) {
    size_t cut = kMaxNoticeReason;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xc0) == 0x80) --cut;  // a continuation byte
    reason = reason.substr(0, cut);
  }
  Notice n;
  n.kind = static_cast<uint8_t>(kind);
  n.retry_after_ms = static_cast<uint32_t>(std::clamp<long long>(retry_after.count(), 0, UINT32_MAX));
  n.reason = std::string(reason);
  return encode(MsgType::notice, session, kServerId, recipient, n);
}

Notice read_notice(const Envelope& env, const std::string& origin) {
  if (env.type != MsgType::notice)
    throw Error(Exit::data, fmt::format("{}: is a {} message, not a notice", origin, type_name(env.type)));
  Notice n = decode_body<Notice>(env, origin);
  if (n.kind > static_cast<uint8_t>(NoticeKind::stopped))
    throw Error(Exit::data, fmt::format("{}: notice of unknown kind {}", origin, n.kind));
  if (n.reason.size() > kMaxNoticeReason)
    throw Error(Exit::data, fmt::format("{}: notice reason of {} bytes, more than {}", origin, n.reason.size(),
                                        kMaxNoticeReason));
  n.reason = one_line(std::move(n.reason));
  return n;
}

}  // namespace secagg::net
