#include "thread_pool.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace secagg {
namespace {

class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }

  // Returns false (and does nothing) if another job is running.
  bool run(size_t n, unsigned threads, const std::function<void(size_t)>& f) {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || job_) return false;
    grow(threads - 1);
    Job job(&f, n);
    job_ = &job;
    helpers_wanted_ = threads - 1;
    ++generation_;
    lock.unlock();
    wake_.notify_all();
    job.work();  // the caller works too
    lock.lock();
    done_.wait(lock, [&] { return job.active == 0; });
    job_ = nullptr;
    lock.unlock();
    if (job.failure) std::rethrow_exception(job.failure);
    return true;
  }

  ~Pool() {
    {
      std::lock_guard g(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  struct Job {
    Job(const std::function<void(size_t)>* fn, size_t count) : f(fn), n(count) {}
    const std::function<void(size_t)>* f;
    size_t n;
    std::atomic<size_t> next{0};
    unsigned active = 0;  // helpers inside work(), guarded by the pool mutex
    std::exception_ptr failure;
    std::mutex failure_mutex;
    void work() {
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        try {
          (*f)(i);
        } catch (...) {
          std::lock_guard g(failure_mutex);
          if (!failure) failure = std::current_exception();
          next = n;
        }
      }
    }
  };

  void grow(unsigned helpers) {
    while (workers_.size() < helpers) workers_.emplace_back([this] { loop(); });
  }

  void loop() {
    uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || (job_ && generation_ != seen && helpers_wanted_ > 0); });
      if (stopping_) return;
      seen = generation_;
      --helpers_wanted_;
      Job* job = job_;
      ++job->active;
      lock.unlock();
      job->work();
      lock.lock();
      if (--job->active == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  Job* job_ = nullptr;
  unsigned helpers_wanted_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

}  // namespace

void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& f) {
  if (threads > n) threads = static_cast<unsigned>(n);
  if (threads > 256) threads = 256;
  if (threads > 1 && Pool::get().run(n, threads, f)) return;
  for (size_t i = 0; i < n; ++i) f(i);
}

void parallel_for_each_checked(size_t n, unsigned threads, const std::function<void(size_t)>& f) {
  Failures failed(n);
  parallel_for(n, threads, [&](size_t i) {
    try {
      f(i);
    } catch (...) {
      failed.record(i);
    }
  });
  failed.rethrow_first();
}

unsigned default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace secagg
