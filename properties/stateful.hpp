// Stateful model-based properties (rc::state) over the trace operations, and
// the programmatic checker the negative-control tests and the candidate
// runner use.  A failing run writes its history as a trace that
// `buddycheck replay` accepts unchanged.
#pragma once

#include "buddycheck/free_family.hpp"

#include <rapidcheck.h>

#include <cstddef>
#include <functional>
#include <string>

namespace bc::props {

// The last failing case of the current check: when rapidcheck is done, the
// shrunk one (shrinking keeps the last case that still failed).
struct failure {
	std::string trace;     // config lines + operations, replayable as is
	size_t ops = 0;        // operations in it
	std::string invariant; // what the lockstep reported
	std::string message;
	std::string file;      // where the trace was written ("" when not)
};
failure &last_failure();
void clear_last_failure();

// How a failure's trace is replayed ("--engine NAME", "--candidate FILE.c"),
// written as a comment at its top, and the stem of the file it goes to
// ($BUDDYCHECK_PROPERTIES_OUT, default buddycheck-out/properties).
struct target {
	const free_family *family;
	std::string replay_args;
	std::string stem;
	// Run each case's system under test in a forked child, so that a
	// sanitizer abort in a candidate's C code is a failing case that
	// rapidcheck can shrink (its report goes to crash_log).
	bool isolate = false;
	std::string crash_log;
};

// Property: for any configuration (scaled presets, every memory model) and any
// valid history of allocator operations, the batched engine with `t`'s free
// family passes the invariants after every operation and ends in the same
// drained state as the per-page oracle.
void stateful_history(const target &t);

// The outcome of a quiet, programmatic rapidcheck run.
struct outcome {
	bool falsified = false;
	bool gave_up = false;
	int successes = 0;
	std::string description; // rapidcheck's failure text
	failure shrunk;          // valid when falsified (and the property reports through last_failure())
};
// The test parameters of the configuration (RC_PARAMS), maxSuccess scaled.
rc::detail::TestParams params_from_config(double scale = 1.0);
outcome check_quietly(const std::function<void()> &property, const rc::detail::TestParams &params);

// RC_PARAMS with defaults for what it does not name: a fixed seed (a run
// is reproducible) and max_success times $BUDDYCHECK_PROPERTIES_SCALE (the
// `long` ctest label sets 100).  Called by main() before rapidcheck reads
// its configuration.
void default_params(uint64_t seed, int max_success);

} // namespace bc::props
