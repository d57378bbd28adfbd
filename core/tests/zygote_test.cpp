// Both ends of the zygote protocol with real processes: the lab's owner
// against a zygote that sends malformed reports (a script standing in for
// v6lab-init), and the real v6lab-init against malformed commands and
// arguments. Each must refuse the bad input with a clear error and leave
// no process behind.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "v6lab/error.hpp"
#include "v6lab/lab.hpp"
#include "v6lab/nsutil.hpp"
#include "v6lab/zygote_proto.hpp"

using namespace v6lab;
using json = nlohmann::ordered_json;

extern char** environ;

namespace {

const ImageRegistry& images() {
  static ImageRegistry r = ImageRegistry::load_dir(V6LAB_IMAGES_DIR);
  return r;
}

// A directory of this test's own, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/v6lab-zygote-test-XXXXXX";
    if (::mkdtemp(t)) path = t;
  }
  ~TempDir() {
    if (!path.empty()) std::system(("rm -rf '" + path + "'").c_str());
  }
};

// A stand-in for v6lab-init: writes `reports` on fd 5 byte for byte,
// closes it, records its PID, and waits for the lifeline (fd 3) to close.
std::string fake_zygote(const TempDir& dir, const std::string& reports) {
  std::string script = dir.path + "/fake-init";
  std::ofstream(script + ".reports", std::ios::binary) << reports;
  std::ofstream(script) << "#!/bin/sh\n"
                           "echo $$ >\"$0.pid\"\n"
                           "cat \"$0.reports\" >&5\n"
                           "exec 5>&-\n"
                           "exec cat <&3 >/dev/null\n";
  ::chmod(script.c_str(), 0755);
  return script;
}

// What building a one-node lab with that stand-in throws ("" if nothing).
std::string build_error(const std::string& init, pid_t* fake_pid) {
  std::string what;
  try {
    Lab lab(parse_spec(json::parse(R"({"name": "zt", "nodes": {"h1": {}}})"), "zygote_test", images()),
            LabOptions{init});
  } catch (const Error& e) {
    what = e.what();
  }
  std::ifstream in(init + ".pid");
  in >> *fake_pid;
  return what;
}

// A PID no process can have (above any pid_max): if the lab tried to
// adopt it, pidfd_open fails and nothing is signalled.
const std::string kNoPid = "2147483646";

struct BadReport {
  const char* label;
  std::string reports;
  std::string error;  // what the lab's constructor must say
};

// Test names show the label, not the bytes.
void PrintTo(const BadReport& b, std::ostream* os) { *os << b.label; }

class ZygoteReports : public testing::TestWithParam<BadReport> {};

}  // namespace

TEST_P(ZygoteReports, FailTheBuildWithTheReason) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  pid_t fake = 0;
  auto t0 = std::chrono::steady_clock::now();
  std::string error = build_error(fake_zygote(dir, GetParam().reports), &fake);
  EXPECT_EQ(error, GetParam().error);
  // The lab closed the lifeline and reaped its zygote, well before the
  // 30 s a silent zygote would take.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  ASSERT_GT(fake, 0);
  EXPECT_EQ(::kill(fake, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

INSTANTIATE_TEST_SUITE_P(
    Owner, ZygoteReports,
    testing::Values(
        BadReport{"BadPid", "limits none\npid h1 notanumber\n",
                  "the node init helper sent a malformed report: pid is not a positive decimal number "
                  "'notanumber' in \"pid h1 notanumber\""},
        BadReport{"UnknownVerb", "ready h1\n",
                  "the node init helper sent a malformed report: unknown verb 'ready' in \"ready h1\""},
        BadReport{"NodeNotAskedFor", "pid zz " + kNoPid + "\n",
                  "the node init helper reported on 'zz', which the lab did not ask for"},
        BadReport{"SecondPid", "pid h1 " + kNoPid + "\npid h1 " + kNoPid + "\n",
                  "the node init helper reported a second pid for h1"},
        BadReport{"Overlong", std::string(600, 'x'),
                  "the node init helper sent a report longer than 512 bytes"},
        BadReport{"Truncated", "ok h1\npid h1 " + kNoPid,
                  "the node init helper exited before every node was ready (its last report was cut short)"},
        BadReport{"EmbeddedNul", std::string("ok h\0" "1\n", 7),
                  "the node init helper sent a malformed report: embedded NUL byte 'ok h?1' in \"ok h?1\""},
        // Well-formed failures keep their messages.
        BadReport{"Error", "error h1 create namespaces: Operation not permitted\n",
                  "start node h1: create namespaces: Operation not permitted"},
        BadReport{"Fatal", "limits none\nfatal prepare the nodes' root filesystem: test\n",
                  "prepare the nodes' root filesystem: test"},
        BadReport{"Silent", "", "the node init helper exited before every node was ready"}),
    [](const auto& info) { return info.param.label; });

// ------------------------------------------------------- the real v6lab-init

namespace {

struct InitRun {
  int status = -1;
  std::string reports, errors;
};

// Runs the real v6lab-init with `args`, writes `commands` on its fd 4 and
// closes it, reads fd 5 (and its stderr) to EOF, then closes the lifeline
// and reaps it. Nothing it creates outlives the call.
InitRun run_init(const std::vector<std::string>& args, const std::string& commands) {
  int lp[2], cp[2], rp[2], ep[2];
  EXPECT_EQ(::pipe2(lp, O_CLOEXEC) | ::pipe2(cp, O_CLOEXEC) | ::pipe2(rp, O_CLOEXEC) | ::pipe2(ep, O_CLOEXEC), 0);
  // Above 9 first, so that no dup2 onto 3, 4 or 5 overwrites another end.
  int child[3] = {::fcntl(lp[0], F_DUPFD_CLOEXEC, 10), ::fcntl(cp[0], F_DUPFD_CLOEXEC, 10),
                  ::fcntl(rp[1], F_DUPFD_CLOEXEC, 10)};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int i = 0; i < 3; ++i) posix_spawn_file_actions_adddup2(&fa, child[i], 3 + i);
  posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
  std::vector<char*> argv;
  std::vector<std::string> a = args;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, V6LAB_INIT_PATH, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  for (int fd : {lp[0], cp[0], rp[1], ep[1], child[0], child[1], child[2]}) ::close(fd);
  InitRun out;
  if (rc == 0) {
    if (::write(cp[1], commands.data(), commands.size()) < 0) ADD_FAILURE() << "write commands";
    ::close(cp[1]);
    for (auto [fd, text] : {std::pair{rp[0], &out.reports}, std::pair{ep[0], &out.errors}}) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) text->append(buf, static_cast<std::size_t>(n));
    }
    ::close(lp[1]);  // the lifeline: the zygote and its inits exit
    ::waitpid(pid, &out.status, 0);
  } else {
    ADD_FAILURE() << "posix_spawn " << V6LAB_INIT_PATH << ": " << rc;
    ::close(cp[1]);
    ::close(lp[1]);
  }
  ::close(rp[0]);
  ::close(ep[0]);
  return out;
}

std::vector<std::string> zygote_args() {
  zygote::Options o;
  IdRange ids = default_id_range();
  o.id_base = ids.base;
  o.id_count = ids.count;
  o.lab = "zygote-test";
  return zygote::format_zygote_args(o);
}

// Every report line parses (the init formats with the same code), and the
// one fatal line there must be is returned.
std::string fatal_of(const std::string& reports) {
  std::string fatal;
  std::size_t start = 0, nl;
  while ((nl = reports.find('\n', start)) != std::string::npos) {
    std::string line = reports.substr(start, nl - start);
    start = nl + 1;
    zygote::Report r;
    zygote::ParseError e;
    EXPECT_TRUE(zygote::parse_report(line, &r, &e)) << zygote::describe(e, line);
    if (r.kind == zygote::ReportKind::fatal) {
      EXPECT_TRUE(fatal.empty()) << "two fatal reports";
      fatal = r.text;
    }
  }
  EXPECT_EQ(start, reports.size()) << "a report without its newline";
  return fatal;
}

}  // namespace

TEST(ZygoteInit, RefusesMalformedCommands) {
  if (::geteuid() != 0) GTEST_SKIP() << "the zygote needs root to prepare the nodes' root filesystem";
  const std::string prefix = "the lab sent a malformed command to the node init helper: ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"launch h1\n", "unknown verb 'launch'"},
      {"node ../etc\n", "bad name (letters, digits, '.', '_' and '-' only, not starting with '-') '../etc'"},
      {"node h1 h2\n", "extra field after the name 'h2'"},
      {"node\n", "missing name"},
      {std::string("node h\0" "1\n", 9), "embedded NUL byte 'node h?1'"},
      {"node " + std::string(600, 'n') + "\n", "command longer than 511 bytes"},
      {"switch .switch", "the last command has no newline"},
  };
  for (const auto& [commands, reason] : cases) {
    InitRun r = run_init(zygote_args(), commands);
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.status << " " << r.errors;
    EXPECT_EQ(fatal_of(r.reports), prefix + reason) << r.reports;
    EXPECT_EQ(r.reports.find("pid "), std::string::npos) << "created an init: " << r.reports;
  }
}

TEST(ZygoteInit, CreatesTheInitsBeforeABadCommandOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "the zygote needs root to prepare the nodes' root filesystem";
  InitRun r = run_init(zygote_args(), "switch .switch\nlaunch h1\nswitch other\n");
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.status << " " << r.errors;
  EXPECT_EQ(fatal_of(r.reports),
            "the lab sent a malformed command to the node init helper: unknown verb 'launch'");
  EXPECT_NE(r.reports.find("pid .switch "), std::string::npos) << r.reports;
  EXPECT_EQ(r.reports.find("other"), std::string::npos) << r.reports;
}

TEST(ZygoteInit, RefusesMalformedArguments) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"v6lab-init"}, "the first argument must be 'zygote'"},
      {{"v6lab-init", "zygote", "--nproc", "5"}, "missing option '--idmap'"},
      {{"v6lab-init", "zygote", "--idmap", "-1:5"}, "--idmap must be BASE:COUNT, COUNT > 0, within 32-bit ids '-1:5'"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--memory", "1G"}, "the value must be a decimal number '1G'"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--lab", "a/b"}, "--lab must be a name"},
  };
  for (const auto& [args, reason] : cases) {
    InitRun r = run_init(args, "");
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2) << r.status;
    EXPECT_EQ(r.errors.rfind("v6lab-init: " + reason, 0), 0u) << r.errors;
    EXPECT_NE(r.errors.find("usage: v6lab-init zygote --idmap BASE:COUNT"), std::string::npos) << r.errors;
    EXPECT_EQ(r.reports, "");  // it stopped before saying anything
  }
}
