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

std::optional<uint64_t> ConnBudget::identify(uint64_t conn, uint32_t id) {
  erase_first(unident_, [&](uint64_t c) { return c == conn; });
  auto& q = by_id_[id];
  q.push_back(conn);
  id_of_[conn] = id;
  if (q.size() > std::max<size_t>(lim_.per_id, 1)) return q.front();
  return std::nullopt;
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

std::vector<uint64_t> ConnBudget::release(uint64_t conn) {
  erase_first(unident_, [&](uint64_t c) { return c == conn; });
  if (auto it = id_of_.find(conn); it != id_of_.end()) {
    auto q = by_id_.find(it->second);
    erase_first(q->second, [&](uint64_t c) { return c == conn; });
    if (q->second.empty()) by_id_.erase(q);
    id_of_.erase(it);
  }
  erase_first(line_, [&](const auto& w) { return w.first == conn; });
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
