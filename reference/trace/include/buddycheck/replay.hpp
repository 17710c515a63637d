// Replays a trace on two engines in lockstep (the per-page oracle and the
// batched engine under test), checking the invariants after every operation
// and the differential equality at every `check` and at the end.
#pragma once

#include <functional>

#include "buddycheck/free_family.hpp"
#include "buddycheck/invariants.hpp"
#include "buddycheck/model.hpp"
#include "buddycheck/trace.hpp"

#include <memory>
#include <string>
#include <vector>

namespace bc {

enum class verdict { pass, counterexample, bad_input };

struct replay_options {
	const free_family *oracle = &oracle_family();
	const free_family *batched = &reference_family();
	// Full invariant check after every operation (default: only for
	// configurations of at most full_check_max_pfns pages; otherwise range
	// checks per operation and full checks at `check` and at the end).
	bool full_checks = false;
	uint64_t full_check_max_pfns = 4096;
	bool render_map = true;
	// Checks of the oracle too: after every operation, and the full drained
	// check at `check` and at the end.  Fuzzers turn this off: the oracle
	// is the per-page code every other check is measured against (the
	// differential check still compares the two states at the end).
	bool check_oracle_per_op = true;
	// replay() calls this before each operation (the candidate runner
	// publishes the operation it is in, for a parent that may kill it).
	std::function<void(const op &)> before_op;
};

struct replay_result {
	verdict v = verdict::pass;
	std::string error;     // bad input: "file:line: message"
	int line = 0;          // failing operation (0: the final check)
	std::string op_text;
	std::string engine;    // "oracle" or the batched family's name
	std::string invariant; // violated invariant or obligation
	std::string message;
	std::string source; // the candidate's file:line of the call that broke it, when the shim knows it
	uint64_t pfn = no_pfn;
	std::string pfn_map;   // picture of the pfn range around the failure
	size_t ops_run = 0;
	cost_counters oracle_cost, batched_cost;
};

replay_result replay(const trace &t, const replay_options &opt = {});

// Kinds of live allocation a generator sees.
struct handle_info {
	enum kind_t { pages, contig, vmalloc };
};

// A live allocation without copies (what a generator reads on every step).
struct handle_view {
	int32_t index = -1; // compare with lockstep::owner(pfn) to see whether a pfn is still held
	const std::string *name = nullptr;
	const std::vector<uint64_t> *pfns = nullptr; // every pfn it got, in allocation order
	handle_info::kind_t kind = handle_info::pages;
	uint64_t live = 0;
	bool whole = true;
	unsigned order = 0;
	bool compound = false, frozen = false, split = false;
};

// The replay engine one operation at a time: what replay() runs, and what
// generators, property tests and fuzzers drive directly.
class lockstep {
  public:
	lockstep(const config &c, const replay_options &opt = {}, const std::string &file = "<trace>");
	~lockstep();
	// Runs one operation on both engines and its checks.  false once the
	// run has ended (counterexample or bad input: see result()).
	bool step(const op &o);
	// The final drained check and differential check; the verdict.
	const replay_result &finish();
	const replay_result &result() const;
	bool ended() const;
	const Model &oracle_model() const;
	const Model &batched_model() const;
	bool last_alloc_failed() const;
	// Back to the boot state of c, reusing the models' memory where it can.
	void reset(const config &c);
	size_t handle_count() const;
	handle_view handle_at(size_t i) const; // i < handle_count(), in creation order
	uint64_t live_pages() const;            // pages the live handles still hold
	int32_t owner(uint64_t pfn) const;      // handle index holding pfn, or -1

  private:
	struct impl;
	std::unique_ptr<impl> p;
};

} // namespace bc
