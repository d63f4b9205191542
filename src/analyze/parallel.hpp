// Work spread over threads, with the order of results kept by the caller.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <sched.h>

namespace dfa {

// Threads the analysis may use: DFA_THREADS, else the CPUs this process may
// run on, at most 8.
inline unsigned analysis_threads() {
  static const unsigned n = [] {
    if (const char* v = std::getenv("DFA_THREADS")) {
      char* end = nullptr;
      long t = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && t >= 1) return static_cast<unsigned>(std::min(t, 64L));
    }
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return static_cast<unsigned>(std::clamp(cpus, 1, 8));
  }();
  return n;
}

// Calls f(i) for every i below n, on up to `threads` threads (this one
// included), each i once, in rising order of start. f must touch only what
// is its own or fixed. The first exception thrown is rethrown here once
// every thread has stopped (the others take no new i after it).
template <class F>
void parallel_for(std::size_t n, unsigned threads, F&& f) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex lock;
  auto work = [&] {
    for (std::size_t i; !failed && (i = next++) < n;) try {
        f(i);
      } catch (...) {
        std::lock_guard g(lock);
        if (!first) first = std::current_exception();
        failed = true;
      }
  };
  {
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < threads && t < n; ++t) helpers.emplace_back(work);
    work();
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace dfa
