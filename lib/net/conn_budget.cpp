#include "net/conn_budget.hpp"

#include <algorithm>

namespace secagg::net {

namespace {
template <class Seq, class Pred>
bool erase_first(Seq& s, Pred pred) {
  auto it = std::find_if(s.begin(), s.end(), pred);
  if (it == s.end()) return false;
  s.erase(it);
  return true;
}
}  // namespace

std::optional<uint64_t> ConnBudget::admit(uint64_t conn) {
  std::optional<uint64_t> out;
  if (lim_.unidentified > 0 && unident_.size() >= lim_.unidentified) out = unident_.front();
  unident_.push_back(conn);
  return out;
}

std::optional<uint64_t> ConnBudget::oldest_unidentified() const {
  if (unident_.empty()) return std::nullopt;
  return unident_.front();
}

double ConnBudget::behind(const Claim& c, Clock::time_point now) const {
  if (!c.since || lim_.frame_timeout.count() <= 0) return 0;
  const double elapsed = std::chrono::duration<double>(now - *c.since).count();
  const double limit = std::chrono::duration<double>(lim_.frame_timeout).count();
  return static_cast<double>(c.want) * std::min(elapsed / limit, 1.0) - static_cast<double>(c.have);
}

std::optional<uint64_t> ConnBudget::identify(uint64_t conn, uint32_t id, uint64_t want, Clock::time_point now) {
  erase_first(unident_, [&](uint64_t c) { return c == conn; });
  auto& q = by_id_[id];
  q.push_back(conn);
  claims_[conn] = Claim{id, want, 0, std::nullopt};
  if (q.size() <= std::max<size_t>(lim_.per_id, 1)) return std::nullopt;
  // Not the oldest claim, which may be the honest client's frame half read: one that does not
  // keep its pace (stalled, or trickling), and otherwise the newcomer, which has shown nothing.
  std::optional<uint64_t> out;
  double worst = 0;
  for (uint64_t c : q) {
    if (c == conn) continue;
    const double d = behind(claims_.at(c), now);
    if (d > worst) {
      worst = d;
      out = c;
    }
  }
  return out ? out : std::optional<uint64_t>(conn);
}

void ConnBudget::started(uint64_t conn, Clock::time_point now) {
  if (auto it = claims_.find(conn); it != claims_.end()) it->second.since = now;
}

void ConnBudget::received(uint64_t conn, uint64_t bytes) {
  if (auto it = claims_.find(conn); it != claims_.end()) it->second.have += bytes;
}

bool ConnBudget::reserve(uint64_t conn, uint64_t bytes) {
  if (line_.empty() && reserved_ + bytes <= lim_.pending_bytes) {
    holds_[conn] = bytes;
    reserved_ += bytes;
    return true;
  }
  line_.emplace_back(conn, bytes);
  return false;
}

void ConnBudget::withdraw(uint64_t conn) {
  erase_first(unident_, [&](uint64_t c) { return c == conn; });
  if (auto it = claims_.find(conn); it != claims_.end()) {
    auto q = by_id_.find(it->second.id);
    erase_first(q->second, [&](uint64_t c) { return c == conn; });
    if (q->second.empty()) by_id_.erase(q);
    claims_.erase(it);
  }
  erase_first(line_, [&](const auto& w) { return w.first == conn; });
}

std::vector<uint64_t> ConnBudget::release(uint64_t conn) {
  withdraw(conn);
  if (auto it = holds_.find(conn); it != holds_.end()) {
    reserved_ -= it->second;
    holds_.erase(it);
  }
  std::vector<uint64_t> granted;
  while (!line_.empty() && reserved_ + line_.front().second <= lim_.pending_bytes) {
    holds_[line_.front().first] = line_.front().second;
    reserved_ += line_.front().second;
    granted.push_back(line_.front().first);
    line_.pop_front();
  }
  return granted;
}

}  // namespace secagg::net
