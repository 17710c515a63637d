#include "process.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace bc::cli {

namespace {

// The process groups alive now, for the signal handler (which may only
// read them: a fixed array of atomics).
constexpr int max_groups = 256;
std::atomic<int> live_groups[max_groups];

void add_group(int pgid)
{
	for (auto &g : live_groups) {
		int zero = 0;
		if (g.compare_exchange_strong(zero, pgid))
			return;
	}
}

void remove_group(int pgid)
{
	for (auto &g : live_groups) {
		int p = pgid;
		if (g.compare_exchange_strong(p, 0))
			return;
	}
}

void write_str(const char *s) { (void)!write(2, s, std::strlen(s)); }

extern "C" void on_interrupt(int sig)
{
	int n = 0;
	for (auto &g : live_groups) {
		int p = g.load();
		if (p > 0 && kill(-p, SIGKILL) == 0)
			n++;
	}
	const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
	write_str("buddycheck: interrupted by ");
	write_str(name);
	char digits[16];
	int len = 0;
	do
		digits[len++] = char('0' + n % 10);
	while ((n /= 10) && len < 15);
	write_str("; stopped ");
	char rev[16];
	for (int i = 0; i < len; i++)
		rev[i] = digits[len - 1 - i];
	rev[len] = 0;
	write_str(rev);
	write_str(" running child process group(s); no verdict\n");
	_exit(128 + sig);
}

// Resident set of each process group in GROUPS (pgid -> bytes, summed over
// its processes), in one /proc walk for all of them.
void group_rss(std::map<int, uint64_t> &groups)
{
	static const long page = sysconf(_SC_PAGESIZE);
	for (auto &g : groups)
		g.second = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return;
	while (struct dirent *e = readdir(d)) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		// pid (comm) state ppid pgrp ... ; comm may hold spaces: skip to the last ')'.
		const char *p = std::strrchr(buf, ')');
		if (!p)
			continue;
		int field = 2; // the state is field 3
		long pgrp = -1;
		unsigned long long rss = 0;
		for (const char *q = p + 1; *q; q++) {
			if (*q != ' ')
				continue;
			field++;
			if (field == 5)
				pgrp = std::strtol(q + 1, nullptr, 10);
			else if (field == 24) {
				rss = std::strtoull(q + 1, nullptr, 10);
				break;
			}
		}
		if (auto it = groups.find(int(pgrp)); it != groups.end())
			it->second += rss * uint64_t(page);
	}
	closedir(d);
}

int open_out(const std::filesystem::path &p)
{
	if (p.empty())
		return open("/dev/null", O_WRONLY | O_CLOEXEC);
	return open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

} // namespace

std::string shell_line(const std::vector<std::string> &argv)
{
	std::string s;
	for (const auto &a : argv) {
		const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./,:@%") ==
							   std::string::npos;
		std::string q = plain ? a : "'";
		if (!plain) {
			for (char ch : a)
				q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
			q += "'";
		}
		s += (s.empty() ? "" : " ") + q;
	}
	return s;
}

double now_seconds()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

std::string child_outcome::describe() const
{
	char b[160];
	switch (k) {
	case exited:
		std::snprintf(b, sizeof b, "exit status %d", code);
		break;
	case signaled:
		std::snprintf(b, sizeof b, "signal %d (%s)", signal, strsignal(signal));
		break;
	case timeout:
		std::snprintf(b, sizeof b, "was still running after %.1f s, its wall-clock limit, and was killed", seconds);
		break;
	case oom:
		std::snprintf(b, sizeof b, "reached %.0f MiB resident, past its memory limit, and was killed", double(peak_rss) / 1048576);
		break;
	case spawn_failed:
		return "could not be started: " + error;
	}
	return b;
}

void install_interrupt_handlers()
{
	struct sigaction sa = {};
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	for (int s : {SIGINT, SIGTERM, SIGHUP})
		sigaction(s, &sa, nullptr);
}

size_t supervisor::start(const child_spec &spec)
{
	running r;
	r.lim = spec.lim;
	r.started = now_seconds();
	int out = -1, err = -1;
	auto failed = [&](std::string why) {
		if (out >= 0)
			close(out);
		if (err >= 0)
			close(err);
		r.out.k = child_outcome::spawn_failed;
		r.out.error = std::move(why);
		r.done = true;
		kids_.push_back(r);
		return kids_.size() - 1;
	};
	// Opened before the fork so that an unwritable output is the parent's error.
	out = spec.inherit_output ? dup(1) : open_out(spec.stdout_file);
	if (out < 0)
		return failed("cannot write " + spec.stdout_file.string() + ": " + std::strerror(errno));
	err = spec.inherit_output ? dup(2) : spec.stderr_to_stdout ? -1 : open_out(spec.stderr_file);
	if (!spec.stderr_to_stdout && err < 0)
		return failed("cannot write " + spec.stderr_file.string() + ": " + std::strerror(errno));
	const int in = open(spec.stdin_file.empty() ? "/dev/null" : spec.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
	int ready[2];
	if (in < 0 || pipe2(ready, O_CLOEXEC) != 0) {
		if (in >= 0)
			close(in);
		return failed(std::strerror(errno));
	}
	// Everything the child needs is made before the fork: buddycheck has
	// threads (the proofs run beside the stages), so the child may only
	// make async-signal-safe calls (no malloc, no setenv) until it execs.
	std::vector<char *> argv;
	for (const auto &a : spec.argv)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	std::vector<std::string> env_strings;
	for (char **e = environ; *e; e++) {
		const std::string_view kv(*e);
		const auto name = kv.substr(0, kv.find('='));
		if (std::none_of(spec.env.begin(), spec.env.end(), [&](const auto &x) { return x.first == name; }))
			env_strings.emplace_back(kv);
	}
	for (const auto &[k, v] : spec.env)
		env_strings.push_back(k + "=" + v);
	std::vector<char *> envp;
	for (auto &e : env_strings)
		envp.push_back(e.data());
	envp.push_back(nullptr);
	const bool stderr_is_out = spec.stderr_to_stdout && !spec.inherit_output;
	// Blocked across the fork: the child must not run our handler.
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	const pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL); // buddycheck killed with -9: its children too
		struct sigaction dfl = {};
		dfl.sa_handler = SIG_DFL;
		for (int s : {SIGINT, SIGTERM, SIGHUP})
			sigaction(s, &dfl, nullptr);
		sigprocmask(SIG_SETMASK, &old, nullptr);
		dup2(out, 1);
		dup2(stderr_is_out ? out : err, 2);
		dup2(in, 0);
		if (spec.cwd.empty() || chdir(spec.cwd.c_str()) == 0)
			execvpe(argv[0], argv.data(), envp.data());
		int e = errno;
		(void)!write(ready[1], &e, sizeof e);
		_exit(127);
	}
	if (pid > 0) {
		setpgid(pid, pid); // also here: no window in which the group does not exist
		add_group(pid);
	}
	const int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, nullptr);
	close(ready[1]);
	close(in);
	if (pid < 0) {
		close(ready[0]);
		return failed(std::string("fork: ") + std::strerror(fork_errno));
	}
	close(out);
	out = -1;
	if (err >= 0)
		close(err);
	err = -1;
	// The exec either succeeds (the pipe closes empty) or sends its errno.
	int e = 0;
	ssize_t n;
	do
		n = read(ready[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n == sizeof e) {
		waitpid(pid, nullptr, 0);
		remove_group(pid);
		return failed(spec.argv[0] + ": " + std::strerror(e));
	}
	r.pid = pid;
	kids_.push_back(r);
	return kids_.size() - 1;
}

std::vector<child_outcome> supervisor::wait_all()
{
	unsigned polls = 0;
	for (;;) {
		bool any = false;
		const double t = now_seconds();
		// Every 100 ms: the memory of every limited group, in one /proc walk.
		std::map<int, uint64_t> rss;
		if (polls % 5 == 0)
			for (const auto &r : kids_)
				if (!r.done && r.lim.rss_bytes)
					rss[r.pid] = 0;
		if (!rss.empty())
			group_rss(rss);
		for (auto &r : kids_) {
			if (r.done)
				continue;
			int st = 0;
			const pid_t w = waitpid(r.pid, &st, WNOHANG);
			if (r.abort_sent == 0) // a timeout is said at its limit, not after the grace
				r.out.seconds = t - r.started;
			if (w == r.pid) {
				if (r.abort_sent > 0) {
					// The timeout's SIGABRT ended it: still a timeout.
				} else if (WIFEXITED(st)) {
					r.out.k = child_outcome::exited;
					r.out.code = WEXITSTATUS(st);
				} else {
					r.out.k = child_outcome::signaled;
					r.out.signal = WTERMSIG(st);
				}
				kill(-r.pid, SIGKILL); // what it left running in its group
				remove_group(r.pid);
				r.done = true;
				continue;
			}
			any = true;
			if (r.lim.soft_stop_seconds > 0 && !r.out.soft_stopped && r.out.seconds > r.lim.soft_stop_seconds) {
				kill(-r.pid, SIGINT);
				r.out.soft_stopped = true;
			}
			bool over = false;
			if (r.abort_sent > 0) {
				over = t - r.abort_sent > r.lim.stack_grace_seconds;
			} else if (r.lim.wall_seconds > 0 && r.out.seconds > r.lim.wall_seconds) {
				r.out.k = child_outcome::timeout;
				if (r.lim.stack_grace_seconds > 0) {
					kill(r.pid, SIGABRT);
					r.abort_sent = t;
				} else {
					over = true;
				}
			} else if (auto it = rss.find(r.pid); it != rss.end()) {
				r.out.peak_rss = std::max(r.out.peak_rss, it->second);
				if (it->second > r.lim.rss_bytes) {
					r.out.k = child_outcome::oom;
					over = true;
				}
			}
			if (over) {
				kill(-r.pid, SIGKILL);
				waitpid(r.pid, nullptr, 0);
				remove_group(r.pid);
				r.done = true;
			}
		}
		if (!any)
			break;
		polls++;
		// Quick children (a cached lookup, a failed compile) are seen at
		// once; long ones are polled every 20 ms.
		const long ns = polls < 20 ? 2000000L : 20000000L;
		timespec ts{0, ns};
		nanosleep(&ts, nullptr);
	}
	std::vector<child_outcome> res;
	for (auto &r : kids_)
		res.push_back(r.out);
	kids_.clear();
	return res;
}

child_outcome run_child(const child_spec &spec)
{
	supervisor s;
	s.start(spec);
	return s.wait_all().front();
}

} // namespace bc::cli
