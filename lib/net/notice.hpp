// Notices (docs/network.md, "Notices"; man/secagg-formats.5, Notice): the one server message of
// socket mode that is not an answer. serve sends one, best effort, before it closes a client's
// connection without an answer, so that the client can tell "try again" from "the session
// aborted", "your message was refused" and "the server stopped". A notice is unsigned and, over
// plain TCP, unauthenticated: it can make a client give up or wait, which anyone on the path
// can do anyway by closing the connection.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "messages.hpp"

namespace secagg::net {

std::string_view notice_kind_name(NoticeKind kind);  // "retry", "aborted", "refused", "stopped"

// A notice frame for `recipient` (0 when the connection has not named a client). The reason is
// cut to kMaxNoticeReason bytes (at a UTF-8 character boundary).
Bytes notice_frame(const SessionId& session, uint32_t recipient, NoticeKind kind,
                   std::chrono::milliseconds retry_after, std::string_view reason);

// The body of a notice envelope, checked: a known kind, a reason of at most kMaxNoticeReason
// bytes; control characters in the reason are replaced by '?' (it ends up on a terminal).
// Error(Exit::data) starting with `origin` otherwise.
Notice read_notice(const Envelope& env, const std::string& origin);

}  // namespace secagg::net
