// A stand-alone driver for the fuzz targets, used when they are not built with libFuzzer
// (any compiler, no sanitizer): it runs LLVMFuzzerTestOneInput over every file of the
// corpus directories (or the files) named on the command line, then over mutations of
// them drawn from a fixed seed, so a run is reproducible.
//
//   fuzz_<name> [options] PATH...     PATH: a corpus directory (all regular files in it,
//                                     recursively) or one input file
//     --runs N          mutations after the corpus pass (default 2000; 0: replay only;
//                       the default is 0 when every PATH is a file, to replay reproducers)
//     --seconds S       keep mutating until S seconds have passed (and --runs are done)
//     --seed N          mutation seed (default 1)
//     --max-len N       largest mutated input in bytes (default 65536)
//     --timeout S       per-input time limit in seconds; beyond it: a hang (default 10)
//     --malloc-limit-mb N   a single allocation above N MiB is a finding (default 512)
//     --artifact-dir D  where reproducers are written (created if missing; default: the
//                       current directory)
//     --keep-going      after an exception finding, go on (and report each kind once)
//     -v                name every corpus file as it runs
//
// The contract under test: the target returns (having caught secagg::Error, the only
// exception it may catch) for every input. Findings — an exception of another type that
// escapes the target, a crash (SIGSEGV, SIGABRT, ...), an input that runs longer than
// --timeout, a single allocation above --malloc-limit-mb — are reported on stderr with
// the input saved as <artifact-dir>/{exception,crash,timeout,oom}-<hash>, and the driver
// exits 1 (a finding on a corpus file or a reproducer given as it is names that file
// instead of copying it). Otherwise it prints a one-line summary and exits 0.
//
// Mutations (1 to 4 stacked per input): bit flips, byte sets (random or interesting values),
// truncation, extension (random bytes, zeros, a repeated slice), insertion and deletion in the
// middle, splicing two inputs, interesting 8-byte integers at a random offset (cereal writes
// its sizes as le64), interesting body lengths at offset 32 of an envelope found in the input
// ("SAGG"), and interesting text tokens for the text formats.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <random>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

// --- state the signal handlers and operator new read ---------------------------------
const uint8_t* g_input = nullptr;  // the input running now (nullptr between inputs)
size_t g_input_size = 0;
const char* g_input_file = nullptr;  // the file it came from, unmutated (else nullptr)
char g_artifact_dir[4096] = ".";
const char* g_prog = "fuzz";
size_t g_malloc_limit = size_t{512} << 20;
volatile sig_atomic_t g_in_report = 0;

// FNV-1a, 64 bits: a name for a reproducer (async-signal-safe).
uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// Async-signal-safe string building and output.
void put(const char* s) { (void)!write(2, s, strlen(s)); }
void append(char* buf, size_t cap, const char* s) {
  size_t len = strlen(buf);
  while (*s && len + 1 < cap) buf[len++] = *s++;
  buf[len] = 0;
}
void append_u64(char* buf, size_t cap, uint64_t v, int base = 10) {
  char tmp[32];
  int i = 0;
  do {
    tmp[i++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  char out[32];
  int j = 0;
  if (base == 16)
    for (int k = i; k < 16; ++k) out[j++] = '0';
  while (i) out[j++] = tmp[--i];
  out[j] = 0;
  append(buf, cap, out);
}

// Writes the current input as <artifact-dir>/<kind>-<hash> and says so. Signal-safe.
void save_input(const char* kind) {
  if (!g_input) {
    put(g_prog);
    put(": (no input was running)\n");
    return;
  }
  if (g_input_file) {  // a corpus file or a reproducer as given: it is its own reproducer
    put(g_prog);
    put(": the input is ");
    put(g_input_file);
    put("\n");
    return;
  }
  char path[4200] = "";
  append(path, sizeof path, g_artifact_dir);
  append(path, sizeof path, "/");
  append(path, sizeof path, kind);
  append(path, sizeof path, "-");
  append_u64(path, sizeof path, fnv1a(g_input, g_input_size), 16);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t off = 0;
    while (off < g_input_size) {
      ssize_t w = write(fd, g_input + off, g_input_size - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    close(fd);
  }
  char msg[4400] = "";
  append(msg, sizeof msg, g_prog);
  append(msg, sizeof msg, ": reproducer (");
  append_u64(msg, sizeof msg, g_input_size);
  append(msg, sizeof msg, " bytes) saved to ");
  append(msg, sizeof msg, fd >= 0 ? path : "(could not write it)");
  append(msg, sizeof msg, "\n");
  put(msg);
}

void on_fatal_signal(int sig) {
  if (g_in_report) _exit(1);
  g_in_report = 1;
  char msg[256] = "";
  append(msg, sizeof msg, g_prog);
  append(msg, sizeof msg, ": FINDING: crash: signal ");
  append_u64(msg, sizeof msg, static_cast<uint64_t>(sig));
  append(msg, sizeof msg, " (");
  append(msg, sizeof msg, sig == SIGSEGV ? "SIGSEGV" : sig == SIGABRT ? "SIGABRT" : sig == SIGBUS ? "SIGBUS"
                                       : sig == SIGFPE  ? "SIGFPE"
                                       : sig == SIGILL  ? "SIGILL"
                                                        : "?");
  append(msg, sizeof msg, ")\n");
  put(msg);
  save_input("crash");
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

void on_alarm(int) {
  if (g_in_report) _exit(1);
  g_in_report = 1;
  put(g_prog);
  put(": FINDING: hang: an input ran longer than --timeout\n");
  save_input("timeout");
  _exit(1);
}

void install_handlers() {
  static char altstack[1 << 16];
  stack_t ss{};
  ss.ss_sp = altstack;
  ss.ss_size = sizeof altstack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_handler = on_fatal_signal;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) sigaction(sig, &sa, nullptr);
  sa.sa_handler = on_alarm;
  sa.sa_flags = 0;
  sigaction(SIGALRM, &sa, nullptr);
}

void check_alloc(size_t n) {
  if (n > g_malloc_limit && g_input && !g_in_report) {
    g_in_report = 1;
    char msg[256] = "";
    append(msg, sizeof msg, g_prog);
    append(msg, sizeof msg, ": FINDING: huge allocation: operator new(");
    append_u64(msg, sizeof msg, n);
    append(msg, sizeof msg, ") is above --malloc-limit-mb\n");
    put(msg);
    save_input("oom");
    _exit(1);
  }
}

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d ? d : name;
  std::free(d);
  return out;
}

// --- options ----------------------------------------------------------------------------
struct Options {
  uint64_t runs = 2000;
  bool runs_given = false;
  double seconds = 0;
  uint64_t seed = 1;
  size_t max_len = 65536;
  unsigned timeout = 10;
  bool keep_going = false;
  bool verbose = false;
  std::vector<std::string> paths;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s [--runs N] [--seconds S] [--seed N] [--max-len N] [--timeout S]\n"
               "       [--malloc-limit-mb N] [--artifact-dir DIR] [--keep-going] [-v] CORPUS_DIR_OR_FILE...\n",
               g_prog, why, g_prog);
  std::exit(2);
}

uint64_t number(const char* opt, const char* s) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (!*s || *end || errno || s[0] == '-') usage((std::string(opt) + " needs a non-negative integer").c_str());
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--runs") {
      o.runs = number("--runs", value());
      o.runs_given = true;
    } else if (a == "--seconds") {
      char* end = nullptr;
      const char* v = value();
      o.seconds = std::strtod(v, &end);
      if (!*v || *end || !(o.seconds >= 0)) usage("--seconds needs a non-negative number");
    } else if (a == "--seed") {
      o.seed = number("--seed", value());
    } else if (a == "--max-len") {
      o.max_len = std::max<size_t>(1, number("--max-len", value()));
    } else if (a == "--timeout") {
      o.timeout = static_cast<unsigned>(number("--timeout", value()));
    } else if (a == "--malloc-limit-mb") {
      g_malloc_limit = static_cast<size_t>(number("--malloc-limit-mb", value())) << 20;
    } else if (a == "--artifact-dir") {
      std::string d = value();
      if (d.size() >= sizeof g_artifact_dir) usage("--artifact-dir is too long");
      std::strcpy(g_artifact_dir, d.c_str());
    } else if (a == "--keep-going") {
      o.keep_going = true;
    } else if (a == "-v") {
      o.verbose = true;
    } else if (a == "-h" || a == "--help") {
      usage("runs a fuzz target over a corpus and mutations of it");
    } else if (!a.empty() && a[0] == '-') {
      usage(("unknown option " + a).c_str());
    } else {
      o.paths.push_back(a);
    }
  }
  if (o.paths.empty()) usage("name at least one corpus directory or input file");
  return o;
}

// --- inputs -----------------------------------------------------------------------------
struct Input {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "%s: cannot read %s\n", g_prog, p.c_str());
    std::exit(2);
  }
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

std::vector<Input> load(const Options& o, bool& all_files) {
  std::vector<Input> out;
  all_files = true;
  for (const auto& p : o.paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      all_files = false;
      std::vector<std::filesystem::path> files;
      for (auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());  // a fixed order: runs are reproducible
      for (auto& f : files) out.push_back({f.string(), read_all(f)});
    } else if (std::filesystem::is_regular_file(p, ec)) {
      out.push_back({p, read_all(p)});
    } else {
      std::fprintf(stderr, "%s: %s is neither a directory nor a file\n", g_prog, p.c_str());
      std::exit(2);
    }
  }
  return out;
}

// --- running one input ------------------------------------------------------------------
struct Runner {
  const Options& o;
  std::set<std::string> seen;  // exception kinds already reported (--keep-going)
  int findings = 0;
  double slowest = 0;
  std::string slowest_name;

  // Returns false when the run must stop.
  // `file`: the input is that file's contents, unmutated (nullptr for a mutant).
  bool run(const std::vector<uint8_t>& bytes, const std::string& what, const char* file) {
    // An exact-size heap copy: reading past the end of it is what a sanitizer build catches.
    uint8_t* buf = new uint8_t[bytes.size() ? bytes.size() : 1];
    if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
    g_input = buf;
    g_input_size = bytes.size();
    g_input_file = file;
    std::string kind, message;
    auto t0 = std::chrono::steady_clock::now();
    if (o.timeout) alarm(o.timeout);
    try {
      LLVMFuzzerTestOneInput(buf, bytes.size());
    } catch (const std::exception& e) {
      kind = demangle(typeid(e).name());
      message = e.what();
    } catch (...) {
      std::type_info* t = abi::__cxa_current_exception_type();
      kind = t ? demangle(t->name()) : "unknown";
      message = "(not a std::exception)";
    }
    if (o.timeout) alarm(0);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (secs > slowest) {
      slowest = secs;
      slowest_name = what;
    }
    bool go_on = true;
    if (!kind.empty()) {
      // One report per kind of finding: the exception type and its message up to the first ':'.
      std::string key = kind + ": " + message.substr(0, std::min<size_t>(message.find(':'), 60));
      if (seen.insert(key).second) {
        ++findings;
        std::fprintf(stderr, "%s: FINDING: exception other than secagg::Error escaped the target on %s:\n  %s: %s\n",
                     g_prog, what.c_str(), kind.c_str(), message.c_str());
        save_input("exception");
      }
      go_on = o.keep_going;
    }
    g_input = nullptr;
    g_input_file = nullptr;
    delete[] buf;
    return go_on;
  }
};

// --- mutations --------------------------------------------------------------------------
struct Mutator {
  std::mt19937_64 g;
  size_t max_len;
  Mutator(uint64_t seed, size_t max_len) : g(seed), max_len(max_len) {}

  uint64_t below(uint64_t n) { return n ? g() % n : 0; }
  bool chance(unsigned one_in) { return below(one_in) == 0; }

  static constexpr uint8_t kBytes[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x20, 0x40, '0', '9', '-',
                                       ' ',  '\n', 0x0b, 'e',  '.',  'S',  0x93};
  uint64_t interesting64(size_t size) {
    static constexpr uint64_t k[] = {0,
                                     1,
                                     2,
                                     3,
                                     4,
                                     7,
                                     8,
                                     16,
                                     31,
                                     32,
                                     33,
                                     63,
                                     64,
                                     65,
                                     0x7f,
                                     0x80,
                                     0xff,
                                     0x100,
                                     0xffff,
                                     0x10000,
                                     0x7fffffff,
                                     0x80000000ull,
                                     0xffffffffull,
                                     0x100000000ull,
                                     uint64_t{1} << 30,
                                     (uint64_t{1} << 30) + 1,
                                     uint64_t{1} << 36,
                                     (uint64_t{1} << 36) + 1,
                                     (uint64_t{1} << 36) - 1,
                                     uint64_t{1} << 61,
                                     (uint64_t{1} << 61) - 1,
                                     uint64_t{1} << 62,
                                     (uint64_t{1} << 62) + 1,
                                     0x7fffffffffffffffull,
                                     0x8000000000000000ull,
                                     0xfffffffffffffffeull,
                                     0xffffffffffffffffull};
    switch (below(4)) {
      case 0: return size + below(9) - 4;  // near the input's own size
      case 1: return below(size + 1);
      default: return k[below(std::size(k))];
    }
  }
  void put64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
    for (int i = 0; i < 8 && at + i < b.size(); ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  std::vector<size_t> envelopes(const std::vector<uint8_t>& b) {
    std::vector<size_t> at;
    for (size_t i = 0; i + 40 <= b.size(); ++i)
      if (b[i] == 'S' && b[i + 1] == 'A' && b[i + 2] == 'G' && b[i + 3] == 'G') at.push_back(i);
    return at;
  }

  void mutate_once(std::vector<uint8_t>& b, const std::vector<Input>& pool) {
    switch (below(13)) {
      case 0:  // bit flip
        if (!b.empty()) b[below(b.size())] ^= static_cast<uint8_t>(1u << below(8));
        break;
      case 1:  // byte set
        if (!b.empty()) b[below(b.size())] = chance(2) ? kBytes[below(std::size(kBytes))] : static_cast<uint8_t>(g());
        break;
      case 2:  // several random bytes
        for (uint64_t k = 1 + below(8); k-- && !b.empty();) b[below(b.size())] = static_cast<uint8_t>(g());
        break;
      case 3:  // truncation
        if (!b.empty()) b.resize(below(b.size()));
        break;
      case 4: {  // extension: random bytes, zeros, or a repeated slice
        size_t n = chance(8) ? below(max_len / 2 + 1) : 1 + below(64);
        switch (below(3)) {
          case 0:
            for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(g()));
            break;
          case 1: b.insert(b.end(), n, 0); break;
          default:
            if (!b.empty()) {
              size_t from = below(b.size()), len = 1 + below(std::min<size_t>(b.size() - from, 256));
              std::vector<uint8_t> slice(b.begin() + from, b.begin() + from + len);
              for (size_t i = 0; i < n / len + 1; ++i) b.insert(b.end(), slice.begin(), slice.end());
            }
        }
        break;
      }
      case 5: {  // insert bytes in the middle
        size_t at = below(b.size() + 1), n = 1 + below(16);
        std::vector<uint8_t> ins(n);
        for (auto& c : ins) c = chance(2) ? static_cast<uint8_t>(g()) : kBytes[below(std::size(kBytes))];
        b.insert(b.begin() + at, ins.begin(), ins.end());
        break;
      }
      case 6:  // delete bytes in the middle
        if (!b.empty()) {
          size_t at = below(b.size()), n = 1 + below(std::min<size_t>(b.size() - at, 32));
          b.erase(b.begin() + at, b.begin() + at + n);
        }
        break;
      case 7: {  // splice: a prefix of this input and a suffix of another
        const auto& other = pool[below(pool.size())].bytes;
        size_t cut = below(b.size() + 1), from = below(other.size() + 1);
        b.resize(cut);
        b.insert(b.end(), other.begin() + from, other.end());
        break;
      }
      case 8:
      case 9:  // an interesting le64 at a random offset (cereal sizes, lengths, moduli)
        if (b.size() >= 8) put64(b, below(b.size() - 7), interesting64(b.size()));
        break;
      case 10:
      case 11: {  // an interesting body length at offset 32 of an envelope in the input
        auto at = envelopes(b);
        if (at.empty()) {
          if (b.size() >= 40) put64(b, 32, interesting64(b.size()));
        } else {
          size_t e = at[below(at.size())];
          uint64_t body = b.size() >= e + 72 ? b.size() - e - 72 : 0;
          uint64_t v = chance(2) ? body + below(5) - 2 : interesting64(b.size());
          put64(b, e + 32, v);
        }
        break;
      }
      default: {  // a text token: numbers at the edges of the ranges, and non-numbers
        static const char* const kTokens[] = {
            "0",  "-0",   "1",    "-1",  "+1",  "++1", "+-1", "18446744073709551615", "18446744073709551616",
            "4294967296", "4294967295", "4611686018427387904", "00000000000000000000000001", "1e308", "1e309",
            "-1e309", "4.9e-324", "2.4e-324", "1e-400", "nan", "-nan", "NaN", "inf", "-inf", "infinity",
            "0x10", "1.", ".5", "1e", "1e+", "--", "\xff", "\x01", "9999999999999999999999999999999",
            "3.4028235e38", "3.4028236e38", "1.17549435e-38", "1.4e-45"};
        std::string t = kTokens[below(std::size(kTokens))];
        t = (chance(2) ? " " : "\n") + t + (chance(2) ? " " : "\n");
        size_t at = below(b.size() + 1);
        b.insert(b.begin() + at, t.begin(), t.end());
        break;
      }
    }
    if (b.size() > max_len) b.resize(max_len);
  }

  std::vector<uint8_t> mutate(const std::vector<Input>& pool, size_t& from) {
    from = below(pool.size());
    std::vector<uint8_t> b = pool[from].bytes;
    for (uint64_t k = 1 + below(4); k--;) mutate_once(b, pool);
    return b;
  }
};

}  // namespace

// Allocation limit: every operator new of the process goes through here. (GCC sees the
// std::malloc / std::free pairs below as mismatched with new / delete; they are the
// replacement itself.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t n) {
  check_alloc(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  check_alloc(n);
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

int main(int argc, char** argv) {
  g_prog = argv[0];
  if (const char* slash = std::strrchr(g_prog, '/')) g_prog = slash + 1;
  Options o = parse(argc, argv);
  {
    std::error_code ec;
    std::filesystem::create_directories(g_artifact_dir, ec);
    if (!std::filesystem::is_directory(g_artifact_dir, ec)) usage("--artifact-dir cannot be created");
  }
  install_handlers();
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);

  bool all_files = false;
  std::vector<Input> pool = load(o, all_files);
  if (all_files && !o.runs_given && o.seconds == 0) o.runs = 0;
  if (pool.empty() && (o.runs || o.seconds > 0)) pool.push_back({"(empty)", {}});

  Runner r{o, {}, 0, 0, {}};
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  bool go_on = true;
  for (const auto& in : pool) {
    if (o.verbose) std::fprintf(stderr, "%s: %s (%zu bytes)\n", g_prog, in.name.c_str(), in.bytes.size());
    if (!(go_on = r.run(in.bytes, in.name, in.name.c_str()))) break;
  }
  const size_t seeds = pool.size();
  Mutator m(o.seed, o.max_len);
  uint64_t done = 0;
  // Mutants join the pool now and then, so mutations can build on each other.
  constexpr size_t kPoolCap = 4096;
  while (go_on && (done < o.runs || elapsed() < o.seconds)) {
    size_t from = 0;
    std::vector<uint8_t> b = m.mutate(pool, from);
    std::string root = pool[from].name;  // mutants keep the corpus file they came from
    go_on = r.run(b, "mutation " + std::to_string(done) + " of " + root, nullptr);
    ++done;
    if (m.chance(16)) {
      if (pool.size() < kPoolCap)
        pool.push_back({root, std::move(b)});
      else if (seeds < kPoolCap)
        pool[seeds + m.below(kPoolCap - seeds)] = {root, std::move(b)};
    }
  }
  std::fprintf(stderr, "%s: %zu corpus inputs, %llu mutations (seed %llu) in %.2f s; slowest input %.1f ms (%s); %d finding%s\n",
               g_prog, seeds, static_cast<unsigned long long>(done), static_cast<unsigned long long>(o.seed), elapsed(),
               r.slowest * 1000, r.slowest_name.c_str(), r.findings, r.findings == 1 ? "" : "s");
  return r.findings ? 1 : 0;
}
