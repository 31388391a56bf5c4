// The status line of a step that can run long (secagg-mask, secagg-collect unmask and serve,
// secagg-sim): one line on stderr with a bar, what is being done, the time spent and what is left,
// redrawn in place. The library only reports progress through callbacks (lib/base/progress.hpp);
// this is where it reaches the terminal.
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "progress.hpp"

namespace secagg::tool {

// Whether to show progress: stderr is a terminal and the user did not ask for --quiet. Output to
// a file or a pipe never carries a status line.
bool progress_wanted(bool quiet);

// Drawn by its own thread, at most five times a second, and only once the step has run for a
// second (a quick step draws nothing); erased when it stops, so that it leaves nothing behind. All
// calls are thread-safe; when not enabled, they cost a lock at most and print only print()'s lines.
class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  // tool: the name the line starts with ("secagg-mask").
  ProgressLine(std::string tool, bool enabled);
  ~ProgressLine() { stop(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // The fraction done of the whole step, in [0, 1], and what it is doing. The time left is
  // estimated from the time since the start, or, after restart(), since then.
  void update(double fraction, std::string_view stage);
  // A wait that ends by `deadline` at the latest: the line shows the stage and the time left
  // until then (no estimate, no time spent).
  void update(double fraction, std::string_view stage, Clock::time_point deadline);
  // The estimate of the time left starts again from now (a new phase with its own fraction).
  void restart();
  // A callback for the library: done of total units give the fraction, with `stage`. Empty when
  // the line is not shown, so that the library skips reporting altogether.
  ProgressFn counter(std::string stage);
  // A line of its own on stderr (a log line, newline added), printed above the status line.
  void print(std::string_view line);
  // Erases the status line and stops drawing (the destructor does it too).
  void stop();

 private:
  void loop();
  void draw();

  std::string tool_;
  Clock::time_point start_, phase_start_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drawn_ = false;
  double fraction_ = 0;
  std::string stage_ = "starting";
  std::optional<Clock::time_point> deadline_;
};

}  // namespace secagg::tool
