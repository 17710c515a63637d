// The build cache (~/.cache/buddycheck, $BUDDYCHECK_CACHE_DIR), safe to share
// between concurrent runs:
//
//   entries/NAME-KEY/   a published build: its files, and `stamp` (written
//                       last) holding the full text of its inputs; used only
//                       when the stamp matches, and its lock held shared
//                       while in use (eviction skips it)
//   locks/NAME-KEY.lock flock(2): exclusive while building, shared while in
//                       use; the kernel drops the lock of a dead process
//   tmp/NAME-KEY.PID.N/ a build in progress, renamed into entries/ when
//                       done; a failed or killed build only ever loses its
//                       own tmp directory
//
// The cache is bounded ($BUDDYCHECK_CACHE_MAX_MB, default 4096): after a
// build, the least recently used entries not in use are evicted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace bc::cli {

std::filesystem::path cache_dir();

// 128-bit FNV-1a of TEXT as 32 hex digits (two different offset bases).
std::string hash_hex(const std::string &text);

struct cache_lookup {
	bool ok = false;
	std::filesystem::path dir; // the published entry
	bool built = false;        // built by this call (not found)
	std::string log;           // the build's output (also on failure)
	std::string error;         // the cache itself failed (not the build)
};

// The entry NAME-hash(STAMP): found, or built by BUILD(tmp_dir, log) into a
// private directory and published.  BUILD returns false for a failed build
// (its log is returned, nothing is published).  The entry stays locked
// (shared) until the process ends.
cache_lookup cache_get(const std::string &name, const std::string &stamp,
		       const std::function<bool(const std::filesystem::path &tmp, std::string &log)> &build);

// Releases this process's locks on the entries whose stamp WHICH accepts,
// and removes those entries that nobody else uses (buddycheck mutate: a
// mutant's builds serve no later run).
void cache_forget(const std::function<bool(const std::string &stamp)> &which);

// Evicts least recently used entries not in use until the cache holds at
// most MAX_BYTES; removes dead builds' tmp directories.  Returns the bytes freed.
uint64_t cache_evict(uint64_t max_bytes);
uint64_t cache_max_bytes();

// `buddycheck cache clean|info`.
int cmd_cache(const std::vector<std::string> &args);

} // namespace bc::cli
