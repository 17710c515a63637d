// The shared body of differential_fuzzer and bulk_fuzzer: decode the input
// into a configuration and a history (buddycheck/decode.hpp), run it on the
// per-page oracle and on the candidate linked into this binary, and abort
// with a readable report on any difference or violated invariant.  A
// finding (a violated obligation) stops the input's operation at once (the
// lockstep sets Model::stop_at_first_finding and catches the stop), so a
// candidate that would loop on past it aborts here like any other.
#pragma once

#include "buddycheck/decode.hpp"
#include "buddycheck/report.hpp"
#include "buddycheck_candidate.h"

#include <cstdio>
#include <cstdlib>
#include <string>

// The profile runtime's writer, linked only in a coverage build (weak: null
// elsewhere).  report() aborts and libFuzzer's crash handler exits without
// running atexit, so a coverage build writes its profile first: ci/coverage
// replays the inputs its negative-control canaries found and counts the
// report path that fired.
extern "C" int __llvm_profile_write_file(void) __attribute__((weak));

// ASan's defaults for these targets (ASAN_OPTIONS overrides them).  The
// quarantine delays the reuse of freed heap memory to catch a use after
// free; the code under test allocates none (a candidate frees struct pages
// of a memmap allocated once per shape), and the only heap traffic of an
// input is libFuzzer's copy of it.  The default 256 MB quarantine walks
// that copy through fresh pages, a page fault every third input: 15% of
// the time of an input on this machine (docs: fuzz/README.md, Speed).
extern "C" const char *__asan_default_options(void) { return "quarantine_size_mb=1"; }

namespace bc::fuzz {

inline decode_options options_from_env(decode_target target)
{
	decode_options o;
	o.target = target;
	if (const char *p = std::getenv("BUDDYCHECK_FUZZ_PRESET"))
		o.preset = p; // e.g. x86_64: the full preset instead of the scaled ones
	if (const char *n = std::getenv("BUDDYCHECK_FUZZ_MAX_OPS"))
		o.max_ops = std::strtoul(n, nullptr, 0);
	if (!o.preset.empty() && !preset(o.preset)) {
		std::fprintf(stderr, "BUDDYCHECK_FUZZ_PRESET=%s: unknown preset\n", o.preset.c_str());
		std::exit(2);
	}
	return o;
}

[[noreturn]] inline void report(const char *target, const free_family &fam, const decode_options &dopt, const uint8_t *data,
				size_t size, const replay_result &r)
{
	// Re-run the decoded text through replay() for line numbers and a pfn map.
	const std::string text = decode_trace(data, size, dopt);
	trace t;
	std::fprintf(stderr, "\n==== buddycheck %s: %s in candidate %s ====\n", target,
		     r.v == verdict::bad_input ? "the decoder produced an invalid history" : "counterexample", fam.name);
	if (!parse_trace(text, "<decoded input>", t)) {
		replay_options opt;
		opt.batched = &fam;
		std::fputs(format_result(t, replay(t, opt), opt).c_str(), stderr);
	} else {
		std::fprintf(stderr, "%s: %s\n", r.invariant.c_str(), r.message.c_str());
	}
	std::fprintf(stderr, "---- decoded trace ----\n%s----\n", text.c_str());
	std::fprintf(stderr, "reproduce: buddycheck decode%s CRASH_FILE > cx.trace && buddycheck replay --candidate %s cx.trace\n",
		     dopt.target == decode_target::bulk ? " --target bulk" : "", fam.name);
	if (__llvm_profile_write_file)
		__llvm_profile_write_file();
	std::abort();
}

inline int run(const char *target, decode_target which, const uint8_t *data, size_t size)
{
	static const free_family fam = candidate_family();
	static const decode_options dopt = options_from_env(which);
	static replay_options opt = [] {
		replay_options o;
		o.batched = &fam;
		o.render_map = false;       // the report re-renders it
		o.full_check_max_pfns = 0;  // range checks per operation, the full check at the end
		o.check_oracle_per_op = false;
		return o;
	}();
	static lockstep_pool pool(opt);
	const replay_result &r = run_input(pool, data, size, dopt);
	if (r.v != verdict::pass)
		report(target, fam, dopt, data, size, r);
	return 0;
}

} // namespace bc::fuzz
