#include "cache.hpp"

#include "buddycheck/files.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

// Locks held (shared) on the entries this process uses: released by the
// kernel when it exits, however it exits (or by cache_forget()).  Threads
// (buddycheck mutate's) share them under the mutex.
struct held_lock {
	int fd;
	fs::path entry;
};
std::vector<held_lock> &held_locks()
{
	static std::vector<held_lock> v;
	return v;
}
std::mutex held_mutex;

bool entry_valid(const fs::path &dir, const std::string &stamp)
{
	std::error_code ec;
	return fs::is_regular_file(dir / "stamp", ec) && slurp(dir / "stamp") == stamp;
}

int lock_fd(const fs::path &p)
{
	int fd;
	do
		fd = open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	while (fd < 0 && errno == EINTR);
	return fd;
}

int flock_retry(int fd, int op)
{
	int r;
	do
		r = flock(fd, op);
	while (r != 0 && errno == EINTR);
	return r;
}

bool pid_alive(long pid) { return pid > 0 && (kill(pid_t(pid), 0) == 0 || errno == EPERM); }

uint64_t tree_bytes(const fs::path &p)
{
	uint64_t n = 0;
	std::error_code ec;
	for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
		if (it->is_regular_file(ec))
			n += it->file_size(ec);
	return n;
}

// Moves DIR into tmp/ (so that it disappears at once) and removes it.
void discard(const fs::path &dir)
{
	static std::atomic<unsigned> counter = 0;
	std::error_code ec;
	const fs::path aside = cache_dir() / "tmp" / ("discard." + std::to_string(getpid()) + "." + std::to_string(counter++));
	fs::rename(dir, aside, ec);
	fs::remove_all(ec ? dir : aside, ec);
}

// tmp/X.PID.N of a process that is gone (killed mid-build), or a day old.
void remove_dead_builds()
{
	std::error_code ec;
	const auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(24);
	for (const auto &e : fs::directory_iterator(cache_dir() / "tmp", ec)) {
		const std::string n = e.path().filename().string();
		const auto last = n.rfind('.');
		const auto prev = last == std::string::npos || last == 0 ? std::string::npos : n.rfind('.', last - 1);
		long pid = prev == std::string::npos ? 0 : std::strtol(n.c_str() + prev + 1, nullptr, 10);
		std::error_code tec;
		const bool dead = !pid_alive(pid);
		const bool stale = pid != getpid() && fs::last_write_time(e.path(), tec) < day_ago; // a reused pid
		if (dead || stale)
			fs::remove_all(e.path(), ec);
	}
}

uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *e = std::getenv(name);
	if (!e || !*e)
		return dflt;
	char *end = nullptr;
	unsigned long long v = std::strtoull(e, &end, 10);
	return end && !*end ? uint64_t(v) : dflt;
}

} // namespace

fs::path cache_dir()
{
	if (const char *e = std::getenv("BUDDYCHECK_CACHE_DIR"); e && *e)
		return fs::absolute(e);
	if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
		return fs::path(x) / "buddycheck";
	if (const char *h = std::getenv("HOME"); h && *h)
		return fs::path(h) / ".cache" / "buddycheck";
	return fs::temp_directory_path() / ("buddycheck-cache-" + std::to_string(getuid()));
}

std::string hash_hex(const std::string &text)
{
	uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
	for (unsigned char c : text) {
		a = (a ^ c) * 0x100000001b3ULL;
		b = (b ^ c) * 0x100000001b3ULL;
		b ^= b >> 29;
	}
	char s[40];
	std::snprintf(s, sizeof s, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
	return s;
}

uint64_t cache_max_bytes() { return env_u64("BUDDYCHECK_CACHE_MAX_MB", 4096) << 20; }

cache_lookup cache_get(const std::string &name, const std::string &stamp,
		       const std::function<bool(const fs::path &tmp, std::string &log)> &build)
{
	cache_lookup r;
	const fs::path root = cache_dir();
	std::error_code ec;
	for (const char *sub : {"entries", "locks", "tmp"}) {
		fs::create_directories(root / sub, ec);
		if (ec) {
			r.error = "cannot create the build cache " + (root / sub).string() + ": " + ec.message();
			return r;
		}
	}
	const std::string id = name + "-" + hash_hex(stamp);
	const fs::path entry = root / "entries" / id;
	const int fd = lock_fd(root / "locks" / (id + ".lock"));
	if (fd < 0) {
		r.error = "cannot open the cache lock " + (root / "locks" / (id + ".lock")).string() + ": " + std::strerror(errno);
		return r;
	}
	auto keep = [&](bool built) {
		flock_retry(fd, LOCK_SH);
		{
			std::lock_guard<std::mutex> g(held_mutex);
			held_locks().push_back({fd, entry});
		}
		utimensat(AT_FDCWD, (entry / "stamp").c_str(), nullptr, 0); // least recently used: by the stamp's time
		r.ok = true;
		r.dir = entry;
		r.built = built;
		return r;
	};
	flock_retry(fd, LOCK_SH);
	if (entry_valid(entry, stamp))
		return keep(false);
	// Build under the exclusive lock; another process may have built it
	// while this one waited.
	flock_retry(fd, LOCK_EX);
	if (entry_valid(entry, stamp))
		return keep(false);
	if (fs::exists(entry, ec))
		discard(entry); // not what its name promises (a collision, or edited by hand)
	static std::atomic<unsigned> counter = 0;
	const fs::path tmp = root / "tmp" / (id + "." + std::to_string(getpid()) + "." + std::to_string(counter++));
	fs::remove_all(tmp, ec);
	fs::create_directories(tmp, ec);
	if (ec) {
		r.error = "cannot create " + tmp.string() + ": " + ec.message();
		close(fd);
		return r;
	}
	const bool built = build(tmp, r.log);
	if (built) {
		std::ofstream s(tmp / "stamp", std::ios::binary);
		s << stamp;
		s.close();
		if (!s) {
			r.error = "cannot write " + (tmp / "stamp").string() + " (disk full?)";
			fs::remove_all(tmp, ec);
			close(fd);
			return r;
		}
	}
	if (!built) {
		fs::remove_all(tmp, ec); // only this build's own directory
		close(fd);
		return r;
	}
	fs::rename(tmp, entry, ec);
	if (ec) {
		fs::remove_all(tmp, ec);
		if (!entry_valid(entry, stamp)) {
			r.error = "cannot publish the build in " + entry.string() + ": " + ec.message();
			close(fd);
			return r;
		}
	}
	keep(true);
	cache_evict(cache_max_bytes());
	return r;
}

void cache_forget(const std::function<bool(const std::string &stamp)> &which)
{
	std::vector<held_lock> drop;
	{
		std::lock_guard<std::mutex> g(held_mutex);
		auto &v = held_locks();
		for (auto it = v.begin(); it != v.end();) {
			if (which(slurp(it->entry / "stamp"))) {
				drop.push_back(*it);
				it = v.erase(it);
			} else {
				++it;
			}
		}
	}
	for (const auto &h : drop) {
		// Ours alone (no other process or thread holds it shared): removed.
		if (flock(h.fd, LOCK_EX | LOCK_NB) == 0)
			discard(h.entry);
		close(h.fd);
	}
}

uint64_t cache_evict(uint64_t max_bytes)
{
	const fs::path root = cache_dir();
	std::error_code ec;
	const int g = lock_fd(root / "locks" / "evict.lock");
	if (g < 0)
		return 0;
	if (flock(g, LOCK_EX | LOCK_NB) != 0) { // another process is evicting
		close(g);
		return 0;
	}
	remove_dead_builds();
	struct item {
		fs::path dir;
		fs::file_time_type used;
		uint64_t bytes;
	};
	std::vector<item> items;
	uint64_t total = 0;
	for (const auto &e : fs::directory_iterator(root / "entries", ec)) {
		std::error_code tec;
		item it{e.path(), fs::last_write_time(e.path() / "stamp", tec), tree_bytes(e.path())};
		total += it.bytes;
		items.push_back(it);
	}
	std::sort(items.begin(), items.end(), [](const item &a, const item &b) { return a.used < b.used; });
	uint64_t freed = 0;
	for (const auto &it : items) {
		if (total <= max_bytes)
			break;
		const fs::path lock = root / "locks" / (it.dir.filename().string() + ".lock");
		const int fd = lock_fd(lock);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) { // in use by nobody (this process included)
			discard(it.dir);
			total -= it.bytes;
			freed += it.bytes;
		}
		close(fd);
	}
	close(g);
	return freed;
}

int cmd_cache(const std::vector<std::string> &args)
{
	const fs::path root = cache_dir();
	std::error_code ec;
	if (args.size() == 1 && args[0] == "clean") {
		if (!fs::is_directory(root, ec)) {
			std::printf("buddycheck cache: %s is empty\n", root.string().c_str());
			return 0;
		}
		uint64_t before = 0;
		size_t entries = 0;
		for (const auto &e : fs::directory_iterator(root / "entries", ec))
			before += tree_bytes(e.path()), entries++;
		cache_evict(0);
		uint64_t after = 0;
		size_t left = 0;
		for (const auto &e : fs::directory_iterator(root / "entries", ec))
			after += tree_bytes(e.path()), left++;
		std::printf("buddycheck cache: removed %zu entries (%.1f MiB) from %s", entries - left, double(before - after) / 1048576,
			    root.string().c_str());
		if (left)
			std::printf("; %zu in use by a running buddycheck, left", left);
		std::printf("\n");
		return 0;
	}
	if (args.size() == 1 && args[0] == "info") {
		uint64_t bytes = 0;
		size_t entries = 0;
		for (const auto &e : fs::directory_iterator(root / "entries", ec))
			bytes += tree_bytes(e.path()), entries++;
		std::printf("cache:   %s\nentries: %zu\nsize:    %.1f MiB\nlimit:   %.0f MiB (BUDDYCHECK_CACHE_MAX_MB)\n",
			    root.string().c_str(), entries, double(bytes) / 1048576, double(cache_max_bytes()) / 1048576);
		return 0;
	}
	std::fprintf(stderr, "buddycheck: usage: buddycheck cache clean|info\n");
	return 2;
}

} // namespace bc::cli
