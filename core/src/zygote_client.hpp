// The owner's side of a lab's zygote (internal to the core): starting it,
// the lifeline, and the exchange that asks for every init and collects the
// reports. The messages themselves are defined in v6lab/zygote_proto.hpp.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "v6lab/fd.hpp"
#include "v6lab/zygote_proto.hpp"

namespace v6lab::detail {

// Raises the soft RLIMIT_NOFILE to the hard one: a big lab holds a pidfd,
// a namespace fd and a socket per node, more than the default 1024 allow.
void raise_fd_limit();

// The owner's ends of a running zygote.
struct ZygoteProcess {
  pid_t pid = -1;
  UniqueFd lifeline;  // write end, fd 3 in the zygote; registered (below)
  UniqueFd commands;  // write end, fd 4 in the zygote
  UniqueFd reports;   // read end, fd 5 in the zygote
};

// Starts `path zygote OPTIONS` with the three pipes on fds 3, 4 and 5. The
// lifeline's write end is registered so that a fork() of this process
// without exec closes it in the child (see close_lifeline).
ZygoteProcess start_zygote(const std::string& path, const zygote::Options& opts);

// Unregisters and closes a lifeline write end: every init then sees EOF.
void close_lifeline(UniqueFd& lifeline);

struct InitRequest {
  zygote::CommandKind kind;
  std::string name;
};

// Asks the zygote for every init of `requests` and follows the reports
// until each init is ready (its "pid" and its "ok" have both arrived, in
// either order), one failed, or the zygote is gone.
class SpawnSession {
 public:
  // Throws if a request's name cannot be carried by the protocol.
  SpawnSession(std::string init_path, std::vector<InitRequest> requests);

  // Called once per init that is ready, with its index in `requests`.
  using ReadyFn = std::function<void(std::size_t index, pid_t pid)>;
  // Runs the exchange; returns the first error ("" when every init is
  // ready). Stops early when give_up() says so (checked between reads).
  // Reaps the zygote if it exits meanwhile (*zygote_pid becomes -1). What
  // ready() throws is passed on.
  std::string run(ZygoteProcess& z, pid_t* zygote_pid, const ReadyFn& ready,
                  const std::function<bool()>& give_up);

  // Inits that exist (their "pid" arrived) but were neither reported ready
  // nor failed: the owner must still kill them.
  std::vector<std::pair<std::size_t, pid_t>> leftovers() const;
  // The zygote's "limits" sentence.
  const std::string& limits() const { return limits_; }

 private:
  struct State {
    pid_t pid = 0;
    bool ok = false, ready = false, failed = false;
  };

  void write_commands(UniqueFd& commands);
  void read_reports(ZygoteProcess& z, pid_t* zygote_pid, const ReadyFn& ready);
  void handle(const zygote::Report& r, const ReadyFn& ready);
  void zygote_gone(pid_t* zygote_pid);
  void set_error(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }

  std::string init_path_;
  std::vector<InitRequest> requests_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<State> state_;
  std::size_t ready_count_ = 0;
  std::string commands_;  // every command line, written as the pipe takes them
  std::size_t written_ = 0;
  zygote::LineReader reader_;
  std::string limits_, error_;
};

}  // namespace v6lab::detail
