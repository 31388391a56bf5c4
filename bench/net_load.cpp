// make bench: the socket-mode load test. One session of --clients clients (default 1,000) over
// loopback, every client driven from this one process, against a real `secagg-collect serve`.
//
//   1. `secagg-collect setup` makes the session (SecAgg+ with 51 shares, as make bench's other
//      n = 1,000 runs: --neighbours 50, the smallest secure threshold, R = 2^24, length 10,000);
//   2. `secagg-collect serve --listen 127.0.0.1:0` runs it as a child process;
//   3. every client is a thread of this process making the same library calls as the client
//      tools (client_keygen/advertise, client_share, client_mask, client_unmask, and
//      net::exchange for each round). A client holds its connection open until the server
//      closes the round, so all n connections of a round are open at once; the CPU work of the
//      clients runs at most --cpu at a time (default: the number of cores). The --dropout
//      fraction of the clients never sends its masked input (round 2), so that round closes at
//      the server's --round-timeout;
//   4. the aggregate the server prints must equal the plaintext sum of the survivors' inputs,
//      every survivor must have received that same aggregate, U3 must be exactly the clients
//      that did not drop, and the server's log must name exactly those dropouts and refuse
//      nothing. Anything else is a failure (exit 1).
//
// Measured: the session's wall time (from the server listening to the last client holding the
// aggregate) and each round's (from the previous round's first answer to this round's); the
// server's peak RSS (wait4's ru_maxrss) and CPU time; the peak number of its open file
// descriptors (/proc/PID/fd, sampled every 50 ms); this process's peak RSS, descriptors and CPU
// time; the load average before and after. One summary line goes to stdout; --csv appends a row
// (header if the file is new).
//
// Both this process and the server raise their soft RLIMIT_NOFILE to the hard limit: n
// connections need more than the usual default of 1024 (docs/network.md).
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "client.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "graph.hpp"
#include "messages.hpp"
#include "net/client_io.hpp"
#include "net/fd_limit.hpp"
#include "net/frame.hpp"
#include "roster_window.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "session_dir.hpp"
#include "sim.hpp"

extern char** environ;

using namespace secagg;
namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "usage: net_load [--clients N] [--length L] [--neighbours K|auto] [--threshold T] [--modulus-bits B]\n"
    "                [--dropout F] [--round-timeout S] [--cpu N] [--server-threads N] [--seed S]\n"
    "                [--tools DIR] [--dir DIR] [--keep] [--csv FILE] [--quiet] [--server-fd-limit N]\n"
    "                [--server-max-connections N]\n"
    "\n"
    "One socket-mode session over loopback: secagg-collect setup, then secagg-collect serve as a child\n"
    "process, and all N clients as threads of this process, each holding its connection open until the\n"
    "server closes the round. Checks the aggregate against the plaintext sum and reports the wall time,\n"
    "the server's peak RSS and open file descriptors, and this process's own.\n"
    "\n"
    "  --clients N         clients (default 1000)\n"
    "  --length L          elements per input vector (default 10000)\n"
    "  --neighbours K      SecAgg+ neighbours per client, or 'auto' (default 50, i.e. 51 shares, or N-1 if\n"
    "                      smaller: full SecAgg)\n"
    "  --threshold T       Shamir threshold (default: the smallest secure one for K+1 share holders)\n"
    "  --modulus-bits B    R = 2^B (default 24)\n"
    "  --dropout F         fraction of the clients that never send their masked input (default 0); round 2\n"
    "                      then closes at the round timeout\n"
    "  --round-timeout S   the server's --round-timeout in seconds (default 30)\n"
    "  --cpu N             client computations at once (default: the number of cores); the network waits\n"
    "                      are not bounded: every client has its own thread and connection\n"
    "  --server-threads N  the server's --threads, for mask removal (default: the number of cores)\n"
    "  --seed S            seeds the inputs and the choice of dropouts (default 1)\n"
    "  --tools DIR         where secagg-collect is (default: this program's directory)\n"
    "  --dir DIR           work directory, created (default: a new one under $TMPDIR, removed afterwards\n"
    "                      unless the run fails or --keep is given)\n"
    "  --keep              keep the work directory (session directory S, serve.log, aggregate.txt)\n"
    "  --csv FILE          append one row of results (a header first if FILE is new)\n"
    "  --quiet             no progress lines on stderr\n"
    "  --server-fd-limit N run the server with RLIMIT_NOFILE N (soft and hard), to see what it does when\n"
    "                      its descriptors run out (default: its own, raised to the hard limit)\n"
    "  --server-max-connections N\n"
    "                      the server's --max-connections (default: its own, within its descriptors)\n"
    "\n"
    "Exit status: 0 the aggregate is right and every check passed, 1 a check failed, 64 usage,\n"
    "70 the session could not be run.\n";

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double cpu_seconds(const timeval& u, const timeval& s) {
  return static_cast<double>(u.tv_sec + s.tv_sec) + static_cast<double>(u.tv_usec + s.tv_usec) / 1e6;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a.empty() ? "?" : a + " " + b + " " + c;
}

// CPU seconds the whole machine has spent busy since boot (and in steal time), from /proc/stat,
// as bench/bench.py counts them.
double machine_busy_seconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};
  f >> cpu;
  for (auto& x : v) f >> x;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
}

// Open file descriptors of a process (entries of /proc/PID/fd), -1 if it cannot be read.
long count_fds(const std::string& pid) {
  DIR* d = opendir(("/proc/" + pid + "/fd").c_str());
  if (!d) return -1;
  long n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - (pid == "self" ? 1 : 0);  // the directory stream's own descriptor
}

struct Options {
  uint32_t clients = 1000;
  uint64_t length = 10000;
  std::string neighbours = "50";
  uint32_t threshold = 0;  // 0: the smallest secure one
  unsigned modulus_bits = 24;
  double dropout = 0;
  double round_timeout = 30;
  unsigned cpu = 0;             // 0: the number of cores
  unsigned server_threads = 0;  // 0: the number of cores
  uint64_t seed = 1;
  std::string tools;
  std::string dir;
  bool keep = false;
  std::string csv;
  bool quiet = false;
  uint64_t server_fd_limit = 0;  // 0: the server raises its own soft limit to its hard limit
  uint64_t server_max_connections = 0;  // 0: the server's default
};

// A child process (secagg-collect), its standard output and error redirected to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw Error(Exit::software, fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Waits for the exit (at most `limit`; then SIGKILL). Returns the wait status; fills ru.
  int wait(std::chrono::seconds limit, rusage& ru) {
    const auto end = Clock::now() + limit;
    int status = 0;
    for (;;) {
      pid_t r = wait4(pid_, &status, WNOHANG, &ru);
      if (r == pid_) break;
      if (r < 0 && errno != EINTR) throw Error(Exit::software, fmt::format("wait4: {}", std::strerror(errno)));
      if (Clock::now() > end) {
        kill(pid_, SIGKILL);
        wait4(pid_, &status, 0, &ru);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return status;
  }
  // False once it has exited (then it is reaped: wait() must not be called).
  bool running() {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) pid_ = -1;
    return r == 0;
  }

 private:
  pid_t pid_ = -1;
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "unknown status";
}

std::string tail_of(const std::string& path, size_t lines) {
  std::ifstream f(path);
  std::vector<std::string> all;
  for (std::string l; std::getline(f, l);) all.push_back(l);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "    " + all[i] + "\n";
  return out;
}

// Threads with a small stack: n of them wait on their connections at once.
class Threads {
 public:
  explicit Threads(size_t n) { fns_.reserve(n); ids_.reserve(n); }
  void start(std::function<void()> fn) {
    fns_.push_back(std::move(fn));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, size_t{512} << 10);
    pthread_t t;
    const int rc = pthread_create(&t, &attr, &Threads::trampoline, &fns_.back());
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      fns_.pop_back();
      throw Error(Exit::software, fmt::format("cannot start a client thread ({} running): {}", ids_.size(),
                                              std::strerror(rc)));
    }
    ids_.push_back(t);
  }
  void join() {
    for (pthread_t t : ids_) pthread_join(t, nullptr);
    ids_.clear();
  }
  ~Threads() { join(); }

 private:
  static void* trampoline(void* arg) {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  }
  std::vector<std::function<void()>> fns_;
  std::vector<pthread_t> ids_;
};

// Samples the server's and this process's open descriptors (and the server's VmHWM) every 50 ms.
class Sampler {
 public:
  explicit Sampler(pid_t server) : pid_(std::to_string(server)), thread_([this] { loop(); }) {}
  ~Sampler() { stop(); }
  void stop() {
    if (!stop_.exchange(true)) thread_.join();
  }
  long server_fds() const { return server_fds_; }
  long own_fds() const { return own_fds_; }
  long server_hwm_kib() const { return server_hwm_; }

 private:
  void loop() {
    while (!stop_) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  void sample() {
    server_fds_ = std::max(server_fds_.load(), count_fds(pid_));
    // Listing a directory of thousands of descriptors costs the kernel: this process's own
    // (four per client, opened once per round) only every 500 ms.
    if (ticks_++ % 10 == 0) own_fds_ = std::max(own_fds_.load(), count_fds("self"));
    std::ifstream f("/proc/" + pid_ + "/status");
    for (std::string line; std::getline(f, line);)
      if (line.rfind("VmHWM:", 0) == 0) server_hwm_ = std::max(server_hwm_.load(), std::atol(line.c_str() + 6));
  }
  std::string pid_;
  unsigned ticks_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<long> server_fds_{0}, own_fds_{0}, server_hwm_{0};
  std::thread thread_;
};

// When each round's events happened, in seconds since the server started listening.
struct RoundTimes {
  std::atomic<double> last_sent{0};      // the last client's message of the round left
  std::atomic<double> first_answer{-1};  // the first answer of the round arrived (the round closed)
  std::atomic<double> last_answer{0};
};

void store_max(std::atomic<double>& a, double v) {
  for (double cur = a.load(); v > cur && !a.compare_exchange_weak(cur, v);) {
  }
}
// True if this call set the first value.
bool store_first(std::atomic<double>& a, double v) {
  double unset = -1;
  return a.compare_exchange_strong(unset, v);
}

constexpr int round_index(int r) { return r == 4 ? 3 : r; }

// At most `slots` client computations at once. (Not std::counting_semaphore: libstdc++ 12's
// release wakes every waiter, and a thousand threads woken per release cost more than the work.)
class Slots {
 public:
  explicit Slots(unsigned n) : free_(n) {}
  void acquire() {
    std::unique_lock l(m_);
    cv_.wait(l, [&] { return free_ > 0; });
    --free_;
  }
  void release() {
    {
      std::lock_guard l(m_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  unsigned free_;
};

struct Shared {
  Params p;
  SessionId sid{};
  net::HostPort server;
  net::ExchangeOptions xopt;
  uint64_t seed = 1;
  Clock::time_point t0;
  Slots cpu;
  RoundTimes rounds[4];
  std::vector<uint8_t> dropped;  // by id - 1
  std::vector<Digest32> aggregate_digest;  // by id - 1, of the aggregate each survivor received
  std::vector<uint8_t> finished;           // by id - 1: got the aggregate
  // The answer every client of a round receives alike (roster, survivors, aggregate), kept once:
  // n copies of a roster of n entries would make this process's memory quadratic in n.
  std::shared_ptr<const std::pair<Bytes, Envelope>> common[4];
  std::atomic<uint32_t> failures{0};
  std::mutex m;
  std::string first_failure;
  bool quiet = false;
  explicit Shared(unsigned slots) : cpu(slots) {}
};

// One client's whole session, as the client tools do it (tools/secagg-*.cpp, tool::net_round).
void run_client(Shared& sh, uint32_t id) {
  const std::string where = sh.server.str();
  auto cpu = [&](auto&& f) {
    sh.cpu.acquire();
    try {
      f();
    } catch (...) {
      sh.cpu.release();
      throw;
    }
    sh.cpu.release();
  };
  // Sends msg (then frees it) as round r's message; returns the answer, checked as the client
  // tools check it (tool::net_round).
  using Answer = std::shared_ptr<const std::pair<Bytes, Envelope>>;
  auto round = [&](int r, Bytes& msg, MsgType reply_type, uint32_t recipient) -> Answer {
    RoundTimes& t = sh.rounds[round_index(r)];
    net::ExchangeOptions opt = sh.xopt;
    opt.on_sent = [&] { store_max(t.last_sent, since(sh.t0)); };
    Bytes reply = net::exchange(sh.server, msg, opt);
    Bytes().swap(msg);
    const double at = since(sh.t0);
    if (store_first(t.first_answer, at) && !sh.quiet)
      std::fprintf(stderr, "net_load: [%6.2fs] round %d closed (first answer)\n", at, r);
    store_max(t.last_answer, at);
    const std::string origin = "answer from " + where;
    Envelope env = open_envelope(reply, origin);
    expect_message(env, origin, reply_type, sh.sid);
    expect_sender(env, origin, kServerId);
    if (recipient != kServerId) {
      expect_recipient(env, origin, recipient);
      return std::make_shared<const std::pair<Bytes, Envelope>>(std::move(reply), std::move(env));
    }
    // The same bytes as another client's answer: share that copy (opened and checked alike).
    std::lock_guard g(sh.m);
    Answer& c = sh.common[round_index(r)];
    if (!c || c->first != reply) c = std::make_shared<const std::pair<Bytes, Envelope>>(std::move(reply), std::move(env));
    return c;
  };
  try {
    ClientState st;
    Bytes msg;
    cpu([&] {
      st = client_keygen(sh.p, sh.sid, id);
      msg = client_advertise(st);
    });
    // SecAgg+: the round-0 and round-2 answers are the client's own (its window of the roster, its
    // part of U3).
    const bool plus = is_secagg_plus(sh.p);
    auto roster = round(0, msg, roster_message_type(sh.p), plus ? id : kServerId);
    cpu([&] { msg = client_share(st, roster->second, "roster", 1); });
    roster.reset();
    auto inbox = round(1, msg, MsgType::inbox, id);
    if (sh.dropped[id - 1]) return;  // gone before its masked input
    cpu([&] {
      std::vector<uint64_t> x = sim_input(sh.seed, id, sh.p);
      msg = client_mask(st, inbox->second, "inbox", x, 1);
    });
    inbox.reset();
    auto survivors = round(2, msg, MsgType::survivors, plus ? id : kServerId);
    cpu([&] { msg = client_unmask(st, survivors->second, "survivors"); });
    survivors.reset();
    auto aggregate = round(4, msg, MsgType::vector, kServerId);
    sh.aggregate_digest[id - 1] = blake2b_256(aggregate->first);
    sh.finished[id - 1] = 1;
  } catch (const std::exception& e) {
    if (sh.failures++ == 0) {
      std::lock_guard g(sh.m);
      sh.first_failure = fmt::format("client {}: {}", id, e.what());
    }
  }
}

std::string self_dir() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

std::vector<uint64_t> parse_text_vector(const std::string& path) {
  std::ifstream f(path);
  std::vector<uint64_t> v;
  for (std::string tok; f >> tok;) v.push_back(std::stoull(tok));
  return v;
}

int run(const Options& o) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned slots = o.cpu ? o.cpu : cores;
  const unsigned server_threads = o.server_threads ? o.server_threads : cores;
  const net::FdLimit fds = net::raise_fd_limit();
  // Per client: its socket, and its io_context's epoll, eventfd and timerfd.
  const uint64_t need = uint64_t{o.clients} * 4 + 64;
  if (fds.soft < need)
    std::fprintf(stderr, "net_load: warning: the open-file limit is %llu (hard limit %llu), below the %llu this run needs\n",
                 static_cast<unsigned long long>(fds.soft), static_cast<unsigned long long>(fds.hard),
                 static_cast<unsigned long long>(need));

  // The work directory.
  bool made_temp = false;
  fs::path work;
  if (o.dir.empty()) {
    std::string tmpl = (fs::path(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") / "secagg-net-load.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw Error(Exit::cantcreat, fmt::format("mkdtemp {}: {}", tmpl, std::strerror(errno)));
    work = tmpl;
    made_temp = true;
  } else {
    work = o.dir;
    fs::create_directories(work);
  }
  const std::string collect = (fs::path(o.tools.empty() ? self_dir() : o.tools) / "secagg-collect").string();
  const std::string session = (work / "S").string();
  const std::string log_path = (work / "serve.log").string(), agg_path = (work / "aggregate.txt").string();

  // 1. Setup.
  const uint32_t k_default = std::min<uint32_t>(50, o.clients - 1);
  const std::string neighbours = o.neighbours == "50" ? std::to_string(k_default) : o.neighbours;
  std::vector<std::string> setup{collect, "setup", "--session", session, "--clients", std::to_string(o.clients),
                                 "--length", std::to_string(o.length), "--modulus-bits", std::to_string(o.modulus_bits),
                                 "--neighbours", neighbours};
  if (o.threshold) {
    setup.insert(setup.end(), {"--threshold", std::to_string(o.threshold)});
  } else if (neighbours != "auto") {
    setup.insert(setup.end(), {"--threshold", std::to_string(min_secure_threshold(
                                                  static_cast<uint32_t>(std::stoul(neighbours)) + 1))});
  }
  {
    Child c(setup, (work / "setup.out").string(), (work / "setup.err").string());
    rusage ru{};
    const int st = c.wait(std::chrono::seconds(60), ru);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      throw Error(Exit::software, fmt::format("secagg-collect setup: {}:\n{}", describe_status(st),
                                              tail_of((work / "setup.err").string(), 5)));
  }
  auto [p, sid] = SessionDir(session).params();

  // The dropouts and the plaintext sum of the survivors' inputs (not timed).
  Shared sh(slots);
  sh.p = p;
  sh.sid = sid;
  sh.seed = o.seed;
  sh.quiet = o.quiet;
  sh.dropped.assign(p.clients, 0);
  sh.aggregate_digest.assign(p.clients, Digest32{});
  sh.finished.assign(p.clients, 0);
  const auto n_drop = static_cast<uint32_t>(std::llround(o.dropout * p.clients));
  {
    std::vector<uint32_t> ids(p.clients);
    for (uint32_t i = 0; i < p.clients; ++i) ids[i] = i + 1;
    std::mt19937_64 g(o.seed);
    for (uint32_t i = 0; i < n_drop; ++i) {
      std::uniform_int_distribution<uint32_t> pick(i, p.clients - 1);
      std::swap(ids[i], ids[pick(g)]);
      sh.dropped[ids[i] - 1] = 1;
    }
  }
  const Modulus ring = p.ring();
  std::vector<uint64_t> expected(p.length, 0);
  std::vector<uint32_t> want_u3;
  for (uint32_t id = 1; id <= p.clients; ++id) {
    if (sh.dropped[id - 1]) continue;
    want_u3.push_back(id);
    std::vector<uint64_t> x = sim_input(o.seed, id, p);
    for (uint64_t i = 0; i < p.length; ++i) expected[i] = ring.add(expected[i], x[i]);
  }

  // 2. The server.
  const std::string port_file = (work / "port").string();
  const std::string load_start = load_average();
  std::vector<std::string> serve_argv{collect, "serve", "--session", session, "--listen", "127.0.0.1:0",
                                      "--port-file", port_file, "--round-timeout", fmt::format("{}", o.round_timeout),
                                      "--threads", std::to_string(server_threads), "--text", "-o", agg_path};
  if (o.server_max_connections) {
    serve_argv.push_back("--max-connections");
    serve_argv.push_back(std::to_string(o.server_max_connections));
  }
  Child server(serve_argv, (work / "serve.out").string(), log_path);
  if (o.server_fd_limit) {
    // Soft and hard: the server cannot raise it again (a race with its start-up is harmless).
    const rlimit rl{static_cast<rlim_t>(o.server_fd_limit), static_cast<rlim_t>(o.server_fd_limit)};
    if (prlimit(server.pid(), RLIMIT_NOFILE, &rl, nullptr) != 0)
      throw Error(Exit::software, fmt::format("prlimit on the server: {}", std::strerror(errno)));
  }
  Sampler sampler(server.pid());
  const auto listen_deadline = Clock::now() + std::chrono::seconds(30);
  while (!path_exists(port_file)) {
    if (!server.running() || Clock::now() > listen_deadline)
      throw Error(Exit::software, fmt::format("secagg-collect serve did not start listening:\n{}", tail_of(log_path, 10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string port;
  {
    std::ifstream f(port_file);
    f >> port;
  }
  sh.server = net::HostPort{"127.0.0.1", port};
  sh.xopt.connect_timeout = std::chrono::seconds(30);
  sh.xopt.timeout = std::chrono::milliseconds(static_cast<long long>(o.round_timeout * 1000)) + std::chrono::minutes(5);
  sh.xopt.max_reply_body = net::max_server_body(p);
  if (!o.quiet)
    std::fprintf(stderr, "net_load: n = %u, k = %u, t = %u, length %llu, R = 2^%u, %u dropouts before round 2; server "
                 "pid %d on 127.0.0.1:%s; %u client threads, %u computing at once\n",
                 p.clients, p.neighbours, p.threshold, static_cast<unsigned long long>(p.length), ring.bits(), n_drop,
                 static_cast<int>(server.pid()), port.c_str(), p.clients, slots);

  // 3. The clients: one thread each.
  const double busy0 = machine_busy_seconds();
  sh.t0 = Clock::now();
  rusage self0{};
  getrusage(RUSAGE_SELF, &self0);
  {
    Threads threads(p.clients);
    for (uint32_t id = 1; id <= p.clients; ++id) threads.start([&sh, id] { run_client(sh, id); });
    threads.join();
  }
  const double wall = since(sh.t0);
  rusage ru{};
  const int status = server.wait(std::chrono::seconds(60), ru);
  sampler.stop();
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  const std::string load_end = load_average();
  const double busy = machine_busy_seconds() - busy0;

  // 4. The checks.
  std::vector<std::string> problems;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    problems.push_back(fmt::format("secagg-collect serve: {}", describe_status(status)));
  if (sh.failures) problems.push_back(fmt::format("{} clients failed; the first: {}", sh.failures.load(), sh.first_failure));
  if (problems.empty()) {
    std::vector<uint64_t> printed = parse_text_vector(agg_path);
    if (printed != expected) {
      size_t i = 0;
      while (i < std::min(printed.size(), expected.size()) && printed[i] == expected[i]) ++i;
      problems.push_back(printed.size() != expected.size()
                             ? fmt::format("the server printed {} elements, not {}", printed.size(), expected.size())
                             : fmt::format("aggregate element {} is {}, the plaintext sum {}", i, printed[i], expected[i]));
    }
    const Digest32 file = blake2b_256(read_file(SessionDir(session).path(Marker::aggregate)));
    uint32_t got = 0, wrong = 0;
    for (uint32_t id : want_u3) {
      got += sh.finished[id - 1];
      wrong += sh.finished[id - 1] && sh.aggregate_digest[id - 1] != file;
    }
    if (got != want_u3.size() || wrong)
      problems.push_back(fmt::format("{} of {} survivors received the aggregate, {} of them a different one", got,
                                     want_u3.size(), wrong));
    if (SessionDir(session).survivors(sid) != want_u3) problems.push_back("U3 is not the set of clients that did not drop");
  }
  uint32_t dropped_lines = 0, refused_lines = 0, other_lines = 0;
  {
    std::ifstream f(log_path);
    for (std::string l; std::getline(f, l);) {
      if (l.find("round 2: client ") != std::string::npos && l.find(": dropped: no message before the deadline") != std::string::npos)
        ++dropped_lines;
      else if (l.find("refused") != std::string::npos)
        ++refused_lines;
      else
        ++other_lines;
    }
  }
  if (dropped_lines != n_drop)
    problems.push_back(fmt::format("the server's log names {} round-2 dropouts, not {}", dropped_lines, n_drop));
  if (refused_lines) problems.push_back(fmt::format("the server refused {} messages", refused_lines));
  if (other_lines) problems.push_back(fmt::format("the server's log has {} unexpected lines", other_lines));

  // 5. The report.
  const bool ok = problems.empty();
  double r_s[4], prev = 0;
  for (int i = 0; i < 4; ++i) {
    const double a = sh.rounds[i].first_answer.load();
    r_s[i] = a >= 0 ? a - prev : 0;
    if (a >= 0) prev = a;
  }
  const double r2_sent = sh.rounds[2].last_sent.load() - std::max(0.0, sh.rounds[1].first_answer.load());
  const double server_cpu = cpu_seconds(ru.ru_utime, ru.ru_stime);
  const double driver_cpu = cpu_seconds(self.ru_utime, self.ru_stime) - cpu_seconds(self0.ru_utime, self0.ru_stime);
  const long server_rss = std::max<long>(ru.ru_maxrss, sampler.server_hwm_kib());
  // The cores the rest of the machine used meanwhile (other processes, the hypervisor's steal).
  const double other_cores = wall > 0 ? std::max(0.0, busy - server_cpu - driver_cpu) / wall : 0;
  std::printf("net_load n=%u k=%u t=%u length=%llu bits=%u dropouts=%u result=%s wall_s=%.2f rounds_s=%.2f/%.2f/%.2f/%.2f "
              "server_peak_rss_mib=%.1f server_peak_fds=%ld server_cpu_s=%.2f driver_peak_rss_mib=%.1f "
              "driver_peak_fds=%ld driver_cpu_s=%.2f other_cores=%.2f load=%s->%s\n",
              p.clients, p.neighbours, p.threshold, static_cast<unsigned long long>(p.length), ring.bits(), n_drop,
              ok ? "OK" : "FAIL", wall, r_s[0], r_s[1], r_s[2], r_s[3], static_cast<double>(server_rss) / 1024.0,
              sampler.server_fds(), server_cpu, static_cast<double>(self.ru_maxrss) / 1024.0, sampler.own_fds(),
              driver_cpu, other_cores, load_start.c_str(), load_end.c_str());
  for (const auto& m : problems) std::fprintf(stderr, "net_load: FAIL: %s\n", m.c_str());
  if (!o.csv.empty()) {
    const bool fresh = !path_exists(o.csv);
    std::ofstream f(o.csv, std::ios::app);
    if (fresh)
      f << "n,k,t,length,bits,dropouts,cpu_slots,server_threads,round_timeout_s,result,wall_s,r0_s,r1_s,r2_s,r4_s,"
           "r2_all_sent_s,server_peak_rss_kib,server_peak_fds,server_cpu_s,driver_peak_rss_kib,driver_peak_fds,"
           "driver_cpu_s,other_cores,fd_soft_limit,load1_start,load1_end\n";
    f << fmt::format("{},{},{},{},{},{},{},{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{},{},{:.3f},{},{},{:.3f},{:.2f},{},{},{}\n",
                     p.clients, p.neighbours, p.threshold, p.length, ring.bits(), n_drop, slots, server_threads,
                     o.round_timeout, ok ? "OK" : "FAIL", wall, r_s[0], r_s[1], r_s[2], r_s[3], r2_sent, server_rss,
                     sampler.server_fds(), server_cpu, self.ru_maxrss, sampler.own_fds(), driver_cpu, other_cores, fds.soft,
                     load_start.substr(0, load_start.find(' ')), load_end.substr(0, load_end.find(' ')));
  }
  if (made_temp && ok && !o.keep) {
    std::error_code ec;
    fs::remove_all(work, ec);
  } else if (!ok || o.keep) {
    std::fprintf(stderr, "net_load: work directory kept: %s\n", work.c_str());
  }
  if (!ok) std::fprintf(stderr, "net_load: the server's log ends:\n%s", tail_of(log_path, 10).c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bench::Args args("net_load", argc, argv);
  try {
    for (std::string a; args.next(a);) {
      if (a == "--clients") o.clients = static_cast<uint32_t>(std::stoul(args.value()));
      else if (a == "--length") o.length = std::stoull(args.value());
      else if (a == "--neighbours") o.neighbours = args.value();
      else if (a == "--threshold") o.threshold = static_cast<uint32_t>(std::stoul(args.value()));
      else if (a == "--modulus-bits") o.modulus_bits = static_cast<unsigned>(std::stoul(args.value()));
      else if (a == "--dropout") o.dropout = std::stod(args.value());
      else if (a == "--round-timeout") o.round_timeout = std::stod(args.value());
      else if (a == "--cpu") o.cpu = static_cast<unsigned>(std::stoul(args.value()));
      else if (a == "--server-threads") o.server_threads = static_cast<unsigned>(std::stoul(args.value()));
      else if (a == "--seed") o.seed = std::stoull(args.value());
      else if (a == "--tools") o.tools = args.value();
      else if (a == "--dir") o.dir = args.value();
      else if (a == "--keep") o.keep = true;
      else if (a == "--csv") o.csv = args.value();
      else if (a == "--quiet") o.quiet = true;
      else if (a == "--server-fd-limit") o.server_fd_limit = std::stoull(args.value());
      else if (a == "--server-max-connections") o.server_max_connections = std::stoull(args.value());
      else if (a == "-h" || a == "--help") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        std::fprintf(stderr, "net_load: unknown option %s\n%s", a.c_str(), kUsage);
        return 64;
      }
    }
  } catch (const std::logic_error&) {
    std::fprintf(stderr, "net_load: an option's value is not a number\n%s", kUsage);
    return 64;
  }
  if (o.clients < 3 || o.length < 1 || !(o.dropout >= 0 && o.dropout < 1) || !(o.round_timeout > 0) || o.cpu > 4096 ||
      o.server_threads > 256) {
    std::fprintf(stderr, "net_load: need --clients >= 3, --length >= 1, --dropout in [0, 1), --round-timeout > 0, "
                 "--cpu <= 4096, --server-threads <= 256\n");
    return 64;
  }
  return bench::guarded_main("net_load", [&] { return run(o); });
}
