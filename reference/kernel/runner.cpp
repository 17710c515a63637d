// main() of a candidate binary: the candidate's wrapper object (compiled by
// `buddycheck check` with ASan+UBSan) linked with the model.  It replays
// traces and a randomized campaign with the candidate as the batched engine.
//
//   <runner> replay [--memmap M] TRACE           exit 0 pass, 1 counterexample, 2 bad input
//   <runner> suite --memmap M --corpus DIR --histories H --seed N --out PREFIX
//            prints one line: RESULT {"verdict": ..., "chunks": N, "minimal": M, "traces": K[, "trace", "invariant", "line", "operation"], "message": ...}
//   <runner> properties --rounds R --seed N --out PREFIX --candidate FILE.c [--isolate 1]
//            the stateful history property (properties/) with the candidate, in
//            rounds of rapidcheck runs until it is falsified or time is up
//            (--isolate: every case in a forked child, so that a sanitizer abort
//            is shrunk too; `buddycheck check` reruns so after a crash); prints
//            RESULT {"verdict": "pass"|"falsified"|"error", "cases": N[, "ops", "trace", "invariant"], "message": ...}
#include "buddycheck/generate.hpp"
#include "buddycheck/replay.hpp"
#include "buddycheck/report.hpp"
#include "buddycheck_candidate.h"
#include "stateful.hpp"

namespace bc {
free_family candidate_family();
}

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace bc;

static uint64_t chunk_calls(const cost_counters &c)
{
	uint64_t n = 0;
	for (auto x : c.free_frozen_pages_by_order)
		n += x;
	return n;
}

// The trace as replayed: the memory model under test, without `expect
// chunks` lines (chunking is measured as efficiency, not as correctness).
static trace adapt(const trace &t, memmap_model mm)
{
	trace a = t;
	a.cfg.memmap = mm;
	a.ops.erase(std::remove_if(a.ops.begin(), a.ops.end(), [](const op &o) { return o.kind == op_kind::expect_chunks; }),
		    a.ops.end());
	return a;
}

static std::string trace_text(const trace &t, size_t upto_line)
{
	std::string s = "buddycheck-trace 1\n" + config_to_trace(t.cfg);
	for (const op &o : t.ops)
		if (!upto_line || o.line <= int(upto_line))
			s += o.text + "\n";
	return s;
}

static int cmd_replay(int argc, char **argv, const free_family &fam)
{
	std::optional<memmap_model> mm;
	std::string file;
	for (int i = 0; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--memmap" && i + 1 < argc)
			mm = memmap_from_name(argv[++i]);
		else
			file = a;
	}
	trace t;
	if (file.empty()) {
		std::fprintf(stderr, "usage: runner replay [--memmap M] TRACE\n");
		return 2;
	}
	if (auto e = load_trace(file, t)) {
		std::fprintf(stderr, "%s\n", e->str().c_str());
		return 2;
	}
	if (mm)
		t.cfg.memmap = *mm;
	replay_options opt;
	opt.batched = &fam;
	replay_result r = replay(t, opt);
	if (r.v == verdict::bad_input) {
		std::fprintf(stderr, "%s\n", r.error.c_str());
		return 2;
	}
	std::fputs(format_result(t, r, opt).c_str(), stdout);
	return r.v == verdict::pass ? 0 : 1;
}

// The one line `buddycheck check` reads: RESULT and a JSON object (paths
// may hold spaces).
static void print_result(const nlohmann::json &j)
{
	std::printf("RESULT %s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
	std::fflush(stdout);
}

static std::string one_line(std::string s)
{
	std::replace(s.begin(), s.end(), '\n', ' ');
	return s;
}

// A page shared with the parent (mmap of PREFIX.progress): the trace and
// the operation running now, NUL-terminated.  No system call per operation.
struct progress_page {
	static constexpr size_t size = 4096;
	char *page = nullptr;

	explicit progress_page(const std::string &path)
	{
		const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, size) != 0) {
			if (fd >= 0)
				close(fd);
			return;
		}
		void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		page = p == MAP_FAILED ? nullptr : static_cast<char *>(p);
	}
	~progress_page()
	{
		if (page)
			munmap(page, size);
	}
	void publish(const std::string &origin, const op &o)
	{
		if (!page)
			return;
		std::snprintf(page, size, "%s\n%d: %s", origin.c_str(), o.line, o.text.c_str()); // cut at the page, NUL-terminated
	}
};

static int cmd_suite(int argc, char **argv, const free_family &fam)
{
	memmap_model mm = memmap_model::sparse;
	std::string corpus, out = "candidate", parts = "both";
	uint64_t histories = 200;
	uint64_t seed = 1;
	for (int i = 0; i + 1 < argc; i += 2) {
		std::string a = argv[i], v = argv[i + 1];
		if (a == "--memmap")
			mm = *memmap_from_name(v);
		else if (a == "--corpus")
			corpus = v;
		else if (a == "--histories")
			histories = std::strtoull(v.c_str(), nullptr, 10);
		else if (a == "--seed")
			seed = std::strtoull(v.c_str(), nullptr, 0);
		else if (a == "--out")
			out = v;
		else if (a == "--parts")
			parts = v;
	}
	// golden, campaign or both (mutate --every-stage judges them apart).
	const bool golden_part = parts != "campaign", campaign_part = parts != "golden";
	const std::string current = out + "-running.trace";
	progress_page progress(out + ".progress");
	uint64_t chunks = 0, minimal = 0, traces = 0;
	auto run_one = [&](const trace &t, const std::string &origin, const char *part) -> bool {
		// Written first, so that a sanitizer abort leaves the trace behind.
		std::ofstream(current) << "# " << origin << "\n" << trace_text(t, 0);
		replay_options opt;
		opt.batched = &fam;
		// The operation about to run, published for the parent: a
		// candidate that hangs or eats memory in it is killed, and the
		// parent names the operation.
		opt.before_op = [&](const op &o) { progress.publish(origin, o); };
		replay_result r = replay(t, opt);
		replay_options ref;
		ref.render_map = false;
		replay_result rr = replay(t, ref);
		traces++;
		if (r.v == verdict::counterexample) {
			std::string path = out + ".trace";
			std::ofstream(path) << "# counterexample: " << origin << "\n# " << one_line(r.invariant + ": " + r.message)
					    << "\n" << trace_text(t, size_t(r.line));
			print_result({{"verdict", "counterexample"},
				      {"chunks", chunks},
				      {"minimal", minimal},
				      {"traces", traces},
				      {"trace", path},
				      {"part", part},
				      {"invariant", r.invariant},
				      {"message", one_line(r.message)},
				      {"source", r.source},
				      {"line", r.line},
				      {"operation", r.op_text}});
			std::fputs(format_result(t, r, opt).c_str(), stderr);
			std::remove(current.c_str()); // the counterexample trace replaces it
			return false;
		}
		if (r.v == verdict::pass && rr.v == verdict::pass) {
			chunks += chunk_calls(r.batched_cost);
			minimal += chunk_calls(rr.batched_cost);
		}
		return true;
	};
	// Golden traces that document a pass on the reference.
	std::vector<fs::path> golden;
	std::error_code ec;
	if (golden_part && !corpus.empty() && fs::is_directory(corpus, ec))
		for (const auto &e : fs::directory_iterator(corpus))
			if (e.path().extension() == ".trace")
				golden.push_back(e.path());
	std::sort(golden.begin(), golden.end());
	for (const auto &g : golden) {
		trace t;
		if (load_trace(g.string(), t))
			continue;
		if (t.meta_value("expect", "pass") != "pass" || t.meta_value("engine", "reference") != "reference")
			continue;
		if (!run_one(adapt(t, mm), g.string(), "golden"))
			return 1;
	}
	// A randomized campaign of generated histories on the scaled presets: a
	// count, not a clock, so that the verdict does not depend on the
	// machine's speed (the cell's wall-clock limit is the parent's).  Three
	// layouts in turn: one node without holes; a hole in the middle; two
	// nodes with a hole inside node 0 and, under `sparse`, the last section
	// of each node hot-added (a mixed memmap).
	const char *presets[] = {"small", "small-64k", "tiny"};
	const char *layouts[] = {"one node", "a hole", "two nodes"};
	for (uint64_t i = 0; campaign_part && i < histories; i++) {
		config c = *preset(presets[i % 3]);
		c.memmap = mm;
		const unsigned layout = unsigned(i / 3 % 3);
		if (layout == 2) {
			two_node_layout(c);
			if (mm == memmap_model::sparse)
				c.hotplug = 1;
		} else {
			if (layout == 1)
				c.holes = {c.nr_sections / 2};
			kernel_like_zones(c);
		}
		generate_options g;
		g.ops = 200;
		g.seed = seed * 1000003 + i;
		trace t;
		std::string origin = "generated: preset " + std::string(presets[i % 3]) + ", " + layouts[layout] + ", seed " +
				     std::to_string(g.seed);
		if (auto e = parse_trace(generate_trace(c, g), origin, t))
			continue;
		if (!run_one(t, origin, "campaign"))
			return 1;
	}
	std::remove(current.c_str());
	const char *v = chunks > minimal ? "not-batched" : "pass";
	print_result({{"verdict", v}, {"chunks", chunks}, {"minimal", minimal}, {"traces", traces},
		      {"message", chunks > minimal ? "correct, but frees in more chunks than the minimal decomposition" : "correct and batched"}});
	return 0;
}

static int cmd_properties(int argc, char **argv, const free_family &fam)
{
	std::string out = "candidate", candidate = "FILE.c";
	uint64_t rounds = 1;
	uint64_t seed = 1;
	bool isolate = false;
	for (int i = 0; i + 1 < argc; i += 2) {
		std::string a = argv[i], v = argv[i + 1];
		if (a == "--isolate")
			isolate = v == "1";
		else if (a == "--rounds")
			rounds = std::max<uint64_t>(1, std::strtoull(v.c_str(), nullptr, 10));
		else if (a == "--seed")
			seed = std::strtoull(v.c_str(), nullptr, 0);
		else if (a == "--out")
			out = v;
		else if (a == "--candidate")
			candidate = v;
	}
	const fs::path prefix(out);
	setenv("BUDDYCHECK_PROPERTIES_OUT", prefix.parent_path().empty() ? "." : prefix.parent_path().c_str(), 1);
	props::target t{&fam, "--candidate " + candidate, prefix.filename().string() + "-properties", false, {}};
	t.isolate = isolate;
	t.crash_log = out + "-properties-crash.log";
	// ROUNDS rounds of 50 cases with successive seeds (a count, not a clock:
	// the same verdict on any machine); a falsified round is shrunk to the end.
	rc::detail::TestParams params;
	params.maxSuccess = 50;
	int cases = 0;
	for (uint64_t round = 0; round < rounds; round++) {
		params.seed = seed * 1000003 + round;
		const props::outcome o = props::check_quietly([&] { props::stateful_history(t); }, params);
		cases += o.successes + (o.falsified ? 1 : 0);
		if (o.falsified) {
			print_result({{"verdict", "falsified"}, {"cases", cases}, {"ops", o.shrunk.ops}, {"trace", o.shrunk.file},
				      {"invariant", o.shrunk.invariant}, {"message", one_line(o.shrunk.message)}});
			std::fputs(o.description.c_str(), stderr);
			return 1;
		}
		if (o.gave_up) {
			print_result({{"verdict", "error"}, {"cases", cases}, {"message", one_line(o.description)}});
			return 2;
		}
	}
	print_result({{"verdict", "pass"}, {"cases", cases}, {"message", "no counterexample"}});
	return 0;
}

int main(int argc, char **argv)
{
	static const free_family fam = candidate_family();
	if (argc >= 2 && std::string(argv[1]) == "replay")
		return cmd_replay(argc - 2, argv + 2, fam);
	if (argc >= 2 && std::string(argv[1]) == "suite")
		return cmd_suite(argc - 2, argv + 2, fam);
	if (argc >= 2 && std::string(argv[1]) == "properties")
		return cmd_properties(argc - 2, argv + 2, fam);
	std::fprintf(stderr,
		     "usage: %s replay [--memmap M] TRACE | suite --memmap M --corpus DIR --histories H --seed N --out PREFIX"
		     " | properties --rounds R --seed N --out PREFIX --candidate FILE.c\n",
		     argv[0]);
	return 2;
}
