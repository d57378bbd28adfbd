// The helper thread of a lab's bring-up that prepares each node's network
// namespace (internal to the core; used by Lab::spawn_inits in lab.cpp).
#pragma once

#include <sched.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "v6lab/error.hpp"
#include "v6lab/lab.hpp"

namespace v6lab::detail {

// Prepares nodes (Lab::prepare) on one helper thread, inside each node's
// network namespace, as soon as its init reports ready, while the zygote
// goes on creating the others: on two cores the two phases overlap. The
// first error stops it; the owner's thread rethrows it (no exception
// crosses the thread).
class Preparer {
 public:
  using Job = std::pair<NodeHandle*, const NodeSpec*>;
  using Fn = std::function<void(NodeHandle*, const NodeSpec*)>;

  explicit Preparer(Fn fn) : fn_(std::move(fn)), thread_([this] { loop(); }) {}
  ~Preparer() { finish(); }
  Preparer(const Preparer&) = delete;
  Preparer& operator=(const Preparer&) = delete;

  void push(Job job) {
    {
      std::lock_guard<std::mutex> g(mu_);
      queue_.push_back(job);
    }
    cv_.notify_one();
  }
  bool failed() {
    std::lock_guard<std::mutex> g(mu_);
    return error_ != nullptr;
  }
  // Lets the thread prepare what is queued, then joins it.
  void finish() {
    {
      std::lock_guard<std::mutex> g(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void loop() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      try {
        if (::setns(job.first->netns_fd(), CLONE_NEWNET) != 0)
          throw_errno("enter the namespace of " + job.first->name(), errno);
        fn_(job.first, job.second);
      } catch (...) {
        std::lock_guard<std::mutex> g(mu_);
        error_ = std::current_exception();
        closed_ = true;
        queue_.clear();
        return;
      }
    }
  }

  Fn fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool closed_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace v6lab::detail
