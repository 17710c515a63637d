// Child processes of the CLI: every compiler, runner and fuzzer it starts
// runs here, in a process group of its own, under a wall-clock and a memory
// (resident set of the whole group) limit, without a shell (argument vectors:
// paths with spaces need no quoting), and is killed with buddycheck itself on
// SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace bc::cli {

struct limits {
	double wall_seconds = 0; // 0: none
	uint64_t rss_bytes = 0;  // 0: none; the sum over the child's process group
	double soft_stop_seconds = 0; // SIGINT to the group then (a clean end), 0: none
	// Past the wall-clock limit: SIGABRT to the child first and this long
	// for it to end (a sanitizer's abort handler prints where it was: the
	// line a runaway loop is on), then SIGKILL to the group.  0: SIGKILL.
	double stack_grace_seconds = 0;
};

struct child_spec {
	std::vector<std::string> argv;                           // argv[0] is looked up in PATH
	std::vector<std::pair<std::string, std::string>> env;    // added to buddycheck's environment
	std::filesystem::path stdout_file, stderr_file;          // empty: /dev/null
	std::filesystem::path stdin_file;                        // empty: /dev/null
	bool stderr_to_stdout = false;                           // 2>&1 (stderr_file ignored)
	bool inherit_output = false;                             // buddycheck's own stdout and stderr
	std::filesystem::path cwd;                               // empty: buddycheck's
	limits lim;
};

struct child_outcome {
	enum kind { exited, signaled, timeout, oom, spawn_failed } k = spawn_failed;
	int code = -1;          // exit status (exited)
	int signal = 0;         // the signal that ended it (signaled)
	double seconds = 0;     // wall time
	uint64_t peak_rss = 0;  // largest group RSS seen (bytes)
	std::string error;      // spawn_failed: why
	bool soft_stopped = false; // sent SIGINT at limits::soft_stop_seconds
	bool ok() const { return k == exited && code == 0; }
	// "exit status 1", "signal 6 (Aborted)", "TIMEOUT after 30.0 s", ...
	std::string describe() const;
};

// Runs several children at once and waits for all of them.
class supervisor {
public:
	size_t start(const child_spec &spec);
	std::vector<child_outcome> wait_all();

private:
	struct running {
		int pid = -1;
		double started = 0;
		double abort_sent = 0; // when the timeout's SIGABRT went (stack_grace_seconds)
		limits lim;
		child_outcome out;
		bool done = false;
	};
	std::vector<running> kids_;
};

// One child, waited for.
child_outcome run_child(const child_spec &spec);

// SIGINT and SIGTERM end every child (its whole group) and then buddycheck,
// with exit status 128 + signal and a line saying so.  SIGHUP likewise.
void install_interrupt_handlers();

// ARGV as one line a shell reads back the same (single quotes where needed):
// the commands buddycheck prints, and the flags in cache stamps.
std::string shell_line(const std::vector<std::string> &argv);

// Seconds on the monotonic clock.
double now_seconds();

} // namespace bc::cli
