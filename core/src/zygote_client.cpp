// The owner's side of a lab's zygote: see zygote_client.hpp, and
// v6lab/zygote_proto.hpp for the messages.
#include "zygote_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <mutex>
#include <set>

#include "v6lab/error.hpp"

extern char** environ;

namespace v6lab::detail {

namespace {

struct CloneArgs {
  const char* path;
  char* const* argv;
  int fds[3];  // become 3 (lifeline), 4 (commands), 5 (reports)
};

// Runs in the child of clone(CLONE_VM|CLONE_VFORK): it shares the parent's
// memory while the parent thread waits, so it may only make system calls.
int zygote_child(void* p) {
  auto* a = static_cast<CloneArgs*>(p);
  // Handlers installed by the parent (Python's) must not run here.
  for (int s = 1; s < NSIG; ++s) {
    struct sigaction sa;
    if (::syscall(SYS_rt_sigaction, s, nullptr, &sa, sizeof(sigset_t)) == 0 &&
        sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) {
      std::memset(&sa, 0, sizeof sa);
      sa.sa_handler = SIG_DFL;
      ::syscall(SYS_rt_sigaction, s, &sa, nullptr, sizeof(sigset_t));
    }
  }
  // Moved above 9 first: a pipe end may already sit on 3, 4 or 5. The
  // copies up there are close-on-exec: a program other than v6lab-init
  // (which closes everything above 5 itself) must not keep the reports'
  // write end open, or the owner would never see EOF on it.
  int high[3];
  for (int i = 0; i < 3; ++i)
    if ((high[i] = ::fcntl(a->fds[i], F_DUPFD_CLOEXEC, 10)) < 0) ::_exit(126);
  for (int i = 0; i < 3; ++i)
    if (::dup2(high[i], 3 + i) < 0) ::_exit(126);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(a->path, a->argv, environ);
  ::_exit(127);
}

// Lifeline write ends of every lab of this process. A child made by fork()
// without exec (Python's multiprocessing, say) would otherwise keep them
// open and the labs alive after the owner dies: pthread_atfork closes them
// in the child.
std::mutex g_lifelines_mu;
std::set<int> g_lifelines;
int g_lifelines_copy[4096];
std::size_t g_lifelines_count = 0;

void close_lifelines_in_child() {
  for (std::size_t i = 0; i < g_lifelines_count; ++i) ::close(g_lifelines_copy[i]);
}

void refresh_lifeline_copy() {  // with g_lifelines_mu held
  g_lifelines_count = 0;
  for (int fd : g_lifelines)
    if (g_lifelines_count < std::size(g_lifelines_copy)) g_lifelines_copy[g_lifelines_count++] = fd;
}

void register_lifeline(int fd) {
  static std::once_flag once;
  std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, close_lifelines_in_child); });
  std::lock_guard<std::mutex> g(g_lifelines_mu);
  g_lifelines.insert(fd);
  refresh_lifeline_copy();
}

void unregister_lifeline(int fd) {
  std::lock_guard<std::mutex> g(g_lifelines_mu);
  g_lifelines.erase(fd);
  refresh_lifeline_copy();
}

// A zygote that died makes writes to its pipe raise SIGPIPE, which would
// kill a C++ owner: blocked while the guard lives, and a pending one is
// discarded before the old mask comes back.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &set_, &saved_);
  }
  ~SigpipeBlock() {
    timespec zero{0, 0};
    while (::sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t set_, saved_;
};

}  // namespace

void raise_fd_limit() {
  rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

ZygoteProcess start_zygote(const std::string& path, const zygote::Options& opts) {
  int lp[2], cp[2], rp[2];
  if (::pipe2(lp, O_CLOEXEC) != 0) throw_errno("create pipes for the lab's zygote", errno);
  UniqueFd lifeline_r(lp[0]);
  ZygoteProcess z;
  z.lifeline.reset(lp[1]);
  if (::pipe2(cp, O_CLOEXEC) != 0) throw_errno("create pipes for the lab's zygote", errno);
  UniqueFd cmd_r(cp[0]);
  z.commands.reset(cp[1]);
  if (::pipe2(rp, O_CLOEXEC) != 0) throw_errno("create pipes for the lab's zygote", errno);
  UniqueFd rep_w(rp[1]);
  z.reports.reset(rp[0]);
  register_lifeline(z.lifeline.get());

  // One exec per lab: the zygote clones every node init from itself.
  std::vector<std::string> args = zygote::format_zygote_args(opts);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  CloneArgs cargs{path.c_str(), argv.data(), {lifeline_r.get(), cmd_r.get(), rep_w.get()}};
  constexpr std::size_t kStack = 64 * 1024;
  std::vector<char> stack(kStack);
  // Block every signal around clone so no handler runs in the child before
  // it resets them; restore afterwards.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &old);
  pid_t pid = ::clone(zygote_child, stack.data() + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &cargs);
  int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    close_lifeline(z.lifeline);
    throw_errno("start the node init helper " + path, err);
  }
  z.pid = pid;
  // The zygote's ends are closed here: EOF on reports then means it is gone.
  return z;
}

void close_lifeline(UniqueFd& lifeline) {
  if (lifeline) unregister_lifeline(lifeline.get());
  lifeline.reset();
}

// ------------------------------------------------------------ SpawnSession

SpawnSession::SpawnSession(std::string init_path, std::vector<InitRequest> requests)
    : init_path_(std::move(init_path)), requests_(std::move(requests)), state_(requests_.size()) {
  char line[zygote::kMaxLine];
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    const InitRequest& r = requests_[i];
    std::size_t n = zygote::format_command({r.kind, r.name}, line, sizeof line);
    if (!n || !index_.emplace(r.name, i).second)
      throw Error("start " + r.name + ": the name cannot be sent to the node init helper");
    commands_.append(line, n);
  }
}

std::string SpawnSession::run(ZygoteProcess& z, pid_t* zygote_pid, const ReadyFn& ready,
                              const std::function<bool()>& give_up) {
  // Commands and reports go both ways at once, so that neither side blocks
  // on a full pipe.
  ::fcntl(z.commands.get(), F_SETFL, O_NONBLOCK);
  SigpipeBlock sigpipe;
  while (ready_count_ < requests_.size() && error_.empty() && !give_up()) {
    pollfd fds[2] = {{z.reports.get(), POLLIN, 0}, {z.commands.get(), POLLOUT, 0}};
    nfds_t nfds = z.commands ? 2 : 1;
    int rc = ::poll(fds, nfds, 30000);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      set_error("the node init helper did not answer within 30 s");
      break;
    }
    if (nfds == 2 && fds[1].revents) write_commands(z.commands);
    if (fds[0].revents) read_reports(z, zygote_pid, ready);
  }
  return error_;
}

// Writes what the pipe takes; closes it after the last command (EOF tells
// the zygote that no more will come) or if the zygote is gone.
void SpawnSession::write_commands(UniqueFd& commands) {
  ssize_t n = ::write(commands.get(), commands_.data() + written_, commands_.size() - written_);
  if (n > 0) written_ += static_cast<std::size_t>(n);
  if (written_ == commands_.size() || (n < 0 && errno != EAGAIN)) commands.reset();
}

void SpawnSession::read_reports(ZygoteProcess& z, pid_t* zygote_pid, const ReadyFn& ready) {
  zygote::LineReader::Space room = reader_.space();
  ssize_t n = ::read(z.reports.get(), room.data, room.size);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) return zygote_gone(zygote_pid);
  reader_.filled(static_cast<std::size_t>(n));
  std::string_view line;
  zygote::LineReader::Status st;
  while (error_.empty() && (st = reader_.next(&line)) == zygote::LineReader::Status::line) {
    zygote::Report r;
    zygote::ParseError pe;
    if (zygote::parse_report(line, &r, &pe))
      handle(r, ready);
    else
      set_error("the node init helper sent a malformed report: " + zygote::describe(pe, line));
  }
  if (error_.empty() && st == zygote::LineReader::Status::overlong)
    set_error("the node init helper sent a report longer than " + std::to_string(zygote::kMaxLine) +
              " bytes");
}

void SpawnSession::handle(const zygote::Report& r, const ReadyFn& ready) {
  using zygote::ReportKind;
  if (r.kind == ReportKind::limits) {
    limits_ = r.text;
    return;
  }
  if (r.kind == ReportKind::fatal) return set_error(std::string(r.text));
  auto it = index_.find(r.name);
  if (it == index_.end())
    return set_error("the node init helper reported on '" + std::string(r.name) +
                     "', which the lab did not ask for");
  std::size_t i = it->second;
  State& s = state_[i];
  if (r.kind == ReportKind::error) {
    s.failed = true;  // exited already: its PID is not ours to keep
    const InitRequest& q = requests_[i];
    std::string who = q.kind == zygote::CommandKind::switch_ns ? "the switch namespace" : "node " + q.name;
    return set_error("start " + who + ": " + std::string(r.text));
  }
  if (r.kind == ReportKind::pid) {
    if (s.pid) return set_error("the node init helper reported a second pid for " + requests_[i].name);
    s.pid = r.pid;
  } else {
    s.ok = true;
  }
  // Ready once both "pid" (from the zygote) and "ok" (from the init) have
  // arrived, in either order. Marked first: if ready() throws, the handle
  // it was making is not made again by leftovers().
  if (!s.pid || !s.ok || s.ready || s.failed) return;
  s.ready = true;
  ++ready_count_;
  ready(i, s.pid);
}

// EOF (or an error) on the reports: the zygote and every init have closed
// their ends. If the zygote has exited, say how.
void SpawnSession::zygote_gone(pid_t* zygote_pid) {
  std::string e = "the node init helper exited before every node was ready";
  int st = 0;
  if (*zygote_pid > 0 && ::waitpid(*zygote_pid, &st, WNOHANG) == *zygote_pid) {
    *zygote_pid = -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
      e = "could not run the node init helper " + init_path_;
    else if (WIFSIGNALED(st))
      e += " (it was killed by signal " + std::to_string(WTERMSIG(st)) + ")";
  }
  if (reader_.pending()) e += " (its last report was cut short)";
  set_error(e);
}

std::vector<std::pair<std::size_t, pid_t>> SpawnSession::leftovers() const {
  std::vector<std::pair<std::size_t, pid_t>> out;
  for (std::size_t i = 0; i < state_.size(); ++i)
    if (state_[i].pid && !state_[i].ready && !state_[i].failed) out.emplace_back(i, state_[i].pid);
  return out;
}

}  // namespace v6lab::detail
