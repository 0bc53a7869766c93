// A persistent, fork-safe worker pool shared by the extension's native calls (csrc/multirate.cpp's octave pyramid
// and csrc/frames.cpp's spectrograms): one pool per process, whichever translation unit asks first.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <new>
#include <thread>

#if !defined(_WIN32)
#include <unistd.h>
#endif

namespace nnaf {

using idx_t = std::int64_t;

// Threads worth using for `rows` rows of `work` samples each: at most n_threads, and at least `min_work` samples
// per thread (below that, handing out a chunk costs more than it saves).
constexpr idx_t kMinWork = idx_t(1) << 17;

inline int thread_count(idx_t rows, idx_t work, int n_threads, idx_t min_work = kMinWork) {
  const idx_t by_work = std::max<idx_t>(1, rows * std::max<idx_t>(work, 1) / min_work);
  return static_cast<int>(std::max<idx_t>(1, std::min<idx_t>({rows, by_work, static_cast<idx_t>(std::max(1, n_threads))})));
}

// Persistent worker pool. A call hands the pool a Job of n chunks and runs chunks itself too: it claims chunks from
// its own job until none is left, then waits for those that workers took. So a job completes with any number of
// workers, zero included, and concurrent callers (several Python threads, the GIL released) share the workers
// without ever waiting on each other's work. Workers are created on demand (up to the most chunks any call asked
// for, minus the caller) and never exit; one that cannot be created (std::thread throws, e.g. no address space for
// its stack under RLIMIT_AS) is simply not added, and the next call tries again. Nothing on the dispatch path
// allocates: jobs live on the caller's stack, queued through an intrusive list.
//
// Fork: a child has only the forking thread; the parent's workers do not exist there and the pool's mutex and
// condition variables may have been copied mid-use. The pool records the pid that created it; a process whose pid
// differs creates a fresh pool and abandons (deliberately leaks, never touches) the inherited one.
class Pool {
 public:
  using ChunkFn = void (*)(void* ctx, int chunk);

  explicit Pool(long pid) : pid_(pid) {}
  long pid() const { return pid_; }

  int workers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return workers_;
  }

  // Runs fn(ctx, i) once for each i in [0, n) and returns when all have finished; rethrows the first exception.
  void run(int n, ChunkFn fn, void* ctx) {
    Job job;
    job.fn = fn;
    job.ctx = ctx;
    job.n = n;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      grow(n - 1);
      if (workers_ > 0) {
        push(&job);
        for (int k = 0, wake = std::min(workers_, n - 1); k < wake; ++k) work_cv_.notify_one();
      }
    }
    for (;;) {
      int i;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (job.next >= n) break;
        i = claim(&job);
      }
      execute(&job, i);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return job.done == job.n; });
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  struct Job {
    ChunkFn fn = nullptr;
    void* ctx = nullptr;
    int n = 0;
    int next = 0;  // next chunk to claim; a queued job always has next < n
    int done = 0;
    std::exception_ptr error;
    Job* later = nullptr;  // queue link
    bool queued = false;
  };

  static constexpr int kMaxWorkers = 1024;

  // The following four are called with mutex_ held.
  void grow(int target) {
    target = std::min(target, kMaxWorkers);
    while (workers_ < target) {
      try {
        std::thread(&Pool::work, this).detach();
      } catch (...) {  // std::system_error (EAGAIN, ENOMEM) or std::bad_alloc: do with the workers there are
        return;
      }
      ++workers_;
    }
  }

  void push(Job* job) {
    job->queued = true;
    job->later = nullptr;
    if (tail_) tail_->later = job; else head_ = job;
    tail_ = job;
  }

  void unlink(Job* job) {
    Job* prev = nullptr;
    for (Job* j = head_; j; prev = j, j = j->later) {
      if (j != job) continue;
      (prev ? prev->later : head_) = j->later;
      if (tail_ == j) tail_ = prev;
      break;
    }
    job->queued = false;
  }

  int claim(Job* job) {
    const int i = job->next++;
    if (job->next == job->n && job->queued) unlink(job);
    return i;
  }

  // Runs chunk i of job; records completion under mutex_ (the caller may return, destroying the job, as soon as
  // done == n is visible, so nothing touches the job after that).
  void execute(Job* job, int i) {
    std::exception_ptr err;
    try {
      job->fn(job->ctx, i);
    } catch (...) {
      err = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (err && !job->error) job->error = err;
    if (++job->done == job->n) done_cv_.notify_all();
  }

  void work() {
    for (;;) {
      Job* job;
      int i;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_cv_.wait(lock, [&] { return head_ != nullptr; });
        job = head_;
        i = claim(job);
      }
      execute(job, i);
    }
  }

  const long pid_;
  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  Job* head_ = nullptr;
  Job* tail_ = nullptr;
  int workers_ = 0;
};

inline long current_pid() {
#if defined(_WIN32)
  return 0;  // no fork
#else
  return static_cast<long>(::getpid());
#endif
}

inline std::atomic<Pool*> g_pool{nullptr};

// This process's pool, created on first use (or first use after a fork); nullptr if it cannot be allocated.
inline Pool* process_pool() {
  const long pid = current_pid();
  Pool* p = g_pool.load(std::memory_order_acquire);
  while (p == nullptr || p->pid() != pid) {
    Pool* fresh = new (std::nothrow) Pool(pid);
    if (fresh == nullptr) return nullptr;
    if (g_pool.compare_exchange_strong(p, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return fresh;  // a replaced pool (inherited over fork) is leaked on purpose: its state belongs to the parent
    }
    delete fresh;  // another thread installed one; p holds it now, check it
  }
  return p;
}

// Runs body(row_begin, row_end, chunk_index) over t contiguous chunks of rows (chunk_index < t), on the pool with
// the calling thread taking part, or all on the calling thread if there is no pool.
template <typename F>
void parallel_rows(idx_t rows, int t, F body) {
  const idx_t chunk = (rows + t - 1) / t;
  const int n_chunks = static_cast<int>((rows + chunk - 1) / chunk);
  auto run_chunk = [&](int i) {
    const idx_t r0 = i * chunk;
    body(r0, std::min(rows, r0 + chunk), i);
  };
  Pool* pool = n_chunks > 1 ? process_pool() : nullptr;
  if (pool == nullptr) {
    for (int i = 0; i < n_chunks; ++i) run_chunk(i);
    return;
  }
  using Chunk = decltype(run_chunk);
  pool->run(n_chunks, [](void* ctx, int i) { (*static_cast<Chunk*>(ctx))(i); }, &run_chunk);
}

inline int pool_workers() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  return p != nullptr && p->pid() == current_pid() ? p->workers() : 0;
}

}  // namespace nnaf
