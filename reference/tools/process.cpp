#include "process.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

// Resident set of every process in group PGID, in bytes (a /proc walk).
uint64_t group_rss(int pgid)
{
	static const long page = sysconf(_SC_PAGESIZE);
	uint64_t total = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
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
		if (pgrp == pgid)
			total += rss * uint64_t(page);
	}
	closedir(d);
	return total;
}

int open_out(const std::filesystem::path &p)
{
	if (p.empty())
		return open("/dev/null", O_WRONLY | O_CLOEXEC);
	return open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

} // namespace

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
	// Opened before the fork so that an unwritable output is the parent's error.
	int out = spec.inherit_output ? dup(1) : open_out(spec.stdout_file);
	int err = spec.inherit_output ? dup(2) : spec.stderr_to_stdout ? -1 : open_out(spec.stderr_file);
	if (out < 0 || (!spec.stderr_to_stdout && err < 0)) {
		r.out.k = child_outcome::spawn_failed;
		r.out.error = "cannot write " + (out < 0 ? spec.stdout_file : spec.stderr_file).string() + ": " + std::strerror(errno);
		r.done = true;
		if (out >= 0)
			close(out);
		if (err >= 0)
			close(err);
		kids_.push_back(r);
		return kids_.size() - 1;
	}
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) != 0) {
		r.out.error = std::strerror(errno);
		r.done = true;
		close(out);
		if (err >= 0)
			close(err);
		kids_.push_back(r);
		return kids_.size() - 1;
	}
	std::vector<char *> argv;
	for (const auto &a : spec.argv)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
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
		dup2(spec.stderr_to_stdout && !spec.inherit_output ? out : err, 2);
		int in = open("/dev/null", O_RDONLY);
		if (in >= 0)
			dup2(in, 0);
		for (const auto &[k, v] : spec.env)
			setenv(k.c_str(), v.c_str(), 1);
		if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
			int e = errno;
			(void)!write(ready[1], &e, sizeof e);
			_exit(127);
		}
		execvp(argv[0], argv.data());
		int e = errno;
		(void)!write(ready[1], &e, sizeof e);
		_exit(127);
	}
	if (pid > 0) {
		setpgid(pid, pid); // also here: no window in which the group does not exist
		add_group(pid);
	}
	sigprocmask(SIG_SETMASK, &old, nullptr);
	close(ready[1]);
	close(out);
	if (err >= 0)
		close(err);
	if (pid < 0) {
		close(ready[0]);
		r.out.error = std::string("fork: ") + std::strerror(errno);
		r.done = true;
		kids_.push_back(r);
		return kids_.size() - 1;
	}
	// The exec either succeeds (the pipe closes empty) or sends its errno.
	int e = 0;
	ssize_t n;
	do
		n = read(ready[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	r.pid = pid;
	if (n == sizeof e) {
		waitpid(pid, nullptr, 0);
		remove_group(pid);
		r.out.k = child_outcome::spawn_failed;
		r.out.error = spec.argv[0] + ": " + std::strerror(e);
		r.done = true;
	}
	kids_.push_back(r);
	return kids_.size() - 1;
}

std::vector<child_outcome> supervisor::wait_all()
{
	unsigned polls = 0;
	for (;;) {
		bool any = false;
		const double t = now_seconds();
		const bool sample_rss = polls % 5 == 0;
		for (auto &r : kids_) {
			if (r.done)
				continue;
			int st = 0;
			const pid_t w = waitpid(r.pid, &st, WNOHANG);
			r.out.seconds = t - r.started;
			if (w == r.pid) {
				if (WIFEXITED(st)) {
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
			if (r.lim.wall_seconds > 0 && r.out.seconds > r.lim.wall_seconds) {
				r.out.k = child_outcome::timeout;
				over = true;
			} else if (sample_rss && r.lim.rss_bytes) {
				const uint64_t rss = group_rss(r.pid);
				r.out.peak_rss = std::max(r.out.peak_rss, rss);
				if (rss > r.lim.rss_bytes) {
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
