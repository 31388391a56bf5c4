#include "progress_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace secagg::tool {

bool progress_wanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO); }

ProgressLine::ProgressLine(std::string tool, bool enabled)
    : tool_(std::move(tool)), start_(Clock::now()), phase_start_(start_) {
  if (enabled) thread_ = std::thread([this] { loop(); });
}

void ProgressLine::update(double fraction, std::string_view stage) {
  std::lock_guard g(m_);
  fraction_ = std::clamp(fraction, 0.0, 1.0);
  stage_ = stage;
  deadline_.reset();
}

void ProgressLine::update(double fraction, std::string_view stage, Clock::time_point deadline) {
  std::lock_guard g(m_);
  fraction_ = std::clamp(fraction, 0.0, 1.0);
  stage_ = stage;
  deadline_ = deadline;
}

void ProgressLine::restart() {
  std::lock_guard g(m_);
  phase_start_ = Clock::now();
}

ProgressFn ProgressLine::counter(std::string stage) {
  if (!thread_.joinable()) return {};  // nothing to draw: the computation need not report at all
  return [this, stage = std::move(stage)](uint64_t done, uint64_t total) {
    update(total ? static_cast<double>(done) / static_cast<double>(total) : 1.0, stage);
  };
}

void ProgressLine::print(std::string_view line) {
  std::lock_guard g(m_);
  if (drawn_) std::fputs("\r\033[K", stderr);  // the next tick draws the status line again, below
  drawn_ = false;
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
}

void ProgressLine::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard g(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

void ProgressLine::loop() {
  std::unique_lock lock(m_);
  // Nothing for the first second, then a redraw five times a second.
  auto next = start_ + std::chrono::seconds(1);
  while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
    draw();
    next = Clock::now() + std::chrono::milliseconds(200);
  }
}

namespace {

std::string duration(double s) {
  s = std::max(s, 0.0);
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return fmt::format("{}h{:02}m", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60);
}

double seconds(ProgressLine::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

// Called with m_ held.
void ProgressLine::draw() {
  int cols = 80;
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) cols = ws.ws_col;
  const auto now = Clock::now();
  std::string tail;
  if (deadline_) {  // a wait: what it waits for (the stage says it) and for how long at most
    tail = fmt::format(" {}, {} left", stage_, duration(std::ceil(seconds(*deadline_ - now))));
  } else {
    tail = fmt::format(" {:3.0f}%  {}  {}", fraction_ * 100, stage_, duration(seconds(now - start_)));
  }
  if (!deadline_ && fraction_ > 0.02 && fraction_ < 1) {
    const double phase = seconds(now - phase_start_);
    tail += fmt::format(", ~{} left", duration(phase * (1 - fraction_) / fraction_));
  }
  const std::string head = tool_ + ": [";
  const int width = std::clamp(cols - 1 - static_cast<int>(head.size() + 1 + tail.size()), 10, 40);
  const int filled = std::clamp(static_cast<int>(fraction_ * width + 0.5), 0, width);
  std::string line = head + std::string(static_cast<size_t>(filled), '#') +
                     std::string(static_cast<size_t>(width - filled), '-') + "]" + tail;
  // One line, never wrapped: a wrapped line could not be redrawn in place.
  if (static_cast<int>(line.size()) > cols - 1) line.resize(static_cast<size_t>(std::max(cols - 1, 0)));
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace secagg::tool
