// buddycheck: the command-line front end.
//   buddycheck replay TRACE...   replay traces on the oracle and a batched engine
//   buddycheck check             replay the golden traces, expecting their documented verdicts
//   buddycheck presets           list the configuration presets
#include "buddycheck/generate.hpp"
#include "buddycheck/replay.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#ifndef BUDDYCHECK_SOURCE_DIR
#define BUDDYCHECK_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using namespace bc;

static const char *usage_text =
	"usage: buddycheck replay [--engine NAME] [--full-checks] [--no-map] [--quiet] [--expect-documented] TRACE...\n"
	"       buddycheck check [--corpus DIR]\n"
	"       buddycheck generate [--preset NAME] [--memmap flat|vmemmap|sparse] [--ops N] [--seed S]\n"
	"       buddycheck presets\n"
	"       buddycheck engines\n"
	"exit status: 0 pass, 1 counterexample, 2 bad input\n";

static int usage_error(const std::string &msg)
{
	std::fprintf(stderr, "buddycheck: %s\n%s", msg.c_str(), usage_text);
	return 2;
}

static fs::path source_dir()
{
	if (const char *e = std::getenv("BUDDYCHECK_SOURCE_DIR"))
		return e;
	return BUDDYCHECK_SOURCE_DIR;
}

static int cmd_replay(const std::vector<std::string> &args)
{
	replay_options opt;
	bool quiet = false, documented = false;
	const free_family *engine = nullptr;
	std::vector<std::string> files;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "--engine") {
			if (i + 1 == args.size())
				return usage_error("--engine needs a name");
			engine = family_by_name(args[++i]);
			if (!engine)
				return usage_error("unknown engine '" + args[i] + "' (see 'buddycheck engines')");
		} else if (a == "--full-checks") {
			opt.full_checks = true;
		} else if (a == "--no-map") {
			opt.render_map = false;
		} else if (a == "--expect-documented") {
			documented = true;
		} else if (a == "--quiet" || a == "-q") {
			quiet = true;
		} else if (a.rfind("--", 0) == 0) {
			return usage_error("unknown option '" + a + "'");
		} else {
			files.push_back(a);
		}
	}
	if (files.empty())
		return usage_error("replay needs a trace file");
	int status = 0;
	for (const auto &f : files) {
		trace t;
		if (auto e = load_trace(f, t)) {
			std::fprintf(stderr, "%s\n", e->str().c_str());
			status = 2;
			continue;
		}
		opt.batched = engine ? engine : &reference_family();
		if (documented && !engine) {
			std::string name = t.meta_value("engine", "reference");
			opt.batched = family_by_name(name);
			if (!opt.batched) {
				std::fprintf(stderr, "%s: unknown engine '%s' in its '# expect:' line\n", f.c_str(), name.c_str());
				status = 2;
				continue;
			}
		}
		replay_result r = replay(t, opt);
		if (r.v == verdict::bad_input) {
			std::fprintf(stderr, "%s\n", r.error.c_str());
			status = 2;
			continue;
		}
		if (!quiet || r.v != verdict::pass)
			std::fputs(format_result(t, r, opt).c_str(), stdout);
		if (documented) {
			// The verdict must be the one the trace documents.
			std::string want = t.meta_value("expect", "pass");
			std::string want_inv = t.meta_value("invariant");
			bool ok = r.v == verdict::pass ? want == "pass"
							: want == "counterexample" && (want_inv.empty() || want_inv == r.invariant);
			if (!ok) {
				std::printf("UNEXPECTED: %s documents expect=%s%s\n", f.c_str(), want.c_str(),
					    want_inv.empty() ? "" : (" invariant=" + want_inv).c_str());
				status = 1;
			}
			continue;
		}
		if (r.v == verdict::counterexample && status == 0)
			status = 1;
	}
	return status;
}

// Replays every golden trace of corpus/traces and compares the verdict with
// the one its `# expect:` line documents.
static int cmd_check(const std::vector<std::string> &args)
{
	fs::path dir = source_dir() / "corpus" / "traces";
	for (size_t i = 0; i < args.size(); i++) {
		if (args[i] == "--corpus" && i + 1 < args.size())
			dir = args[++i];
		else
			return usage_error("unknown argument '" + args[i] + "'");
	}
	std::error_code ec;
	if (!fs::is_directory(dir, ec))
		return usage_error("no trace corpus at " + dir.string());
	std::vector<fs::path> files;
	for (const auto &e : fs::directory_iterator(dir))
		if (e.path().extension() == ".trace")
			files.push_back(e.path());
	std::sort(files.begin(), files.end());
	int unexpected = 0;
	std::printf("%-44s %-20s %-16s %s\n", "trace", "engine", "verdict", "expected");
	for (const auto &f : files) {
		trace t;
		if (auto e = load_trace(f.string(), t)) {
			std::fprintf(stderr, "%s\n", e->str().c_str());
			return 2;
		}
		replay_options opt;
		opt.render_map = false;
		std::string engine = t.meta_value("engine", "reference");
		opt.batched = family_by_name(engine);
		if (!opt.batched) {
			std::fprintf(stderr, "%s: unknown engine '%s' in its # expect: line\n", f.string().c_str(), engine.c_str());
			return 2;
		}
		replay_result r = replay(t, opt);
		std::string got = r.v == verdict::pass ? "pass" : r.v == verdict::bad_input ? "bad-input" : "counterexample";
		if (r.v == verdict::counterexample)
			got += " " + r.invariant;
		std::string want = t.meta_value("expect", "pass");
		std::string want_inv = t.meta_value("invariant");
		if (!want_inv.empty())
			want += " " + want_inv;
		bool ok = got == want || (want_inv.empty() && got.rfind(want, 0) == 0);
		if (!ok)
			unexpected++;
		std::printf("%-44s %-20s %-32s %s%s\n", f.filename().string().c_str(), engine.c_str(), got.c_str(), want.c_str(),
			    ok ? "" : "   <-- UNEXPECTED");
		if (!ok && r.v == verdict::bad_input)
			std::printf("    %s\n", r.error.c_str());
		else if (!ok && r.v == verdict::counterexample)
			std::printf("    %s:%d: %s: %s\n", f.string().c_str(), r.line, r.invariant.c_str(), r.message.c_str());
	}
	std::printf("%zu traces, %d unexpected verdict(s)\n", files.size(), unexpected);
	return unexpected ? 1 : 0;
}

static bool parse_u64(const std::string &s, uint64_t &v)
{
	char *end = nullptr;
	errno = 0;
	v = std::strtoull(s.c_str(), &end, 0);
	return !s.empty() && s[0] != '-' && end && *end == 0 && errno == 0;
}

// A random valid history, for timing and as seed material.
static int cmd_generate(const std::vector<std::string> &args)
{
	std::string preset_name = "small";
	std::optional<memmap_model> mm;
	generate_options g;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (i + 1 == args.size())
			return usage_error("option '" + a + "' needs a value");
		const std::string &v = args[++i];
		uint64_t n = 0;
		if (a == "--preset")
			preset_name = v;
		else if (a == "--memmap") {
			mm = memmap_from_name(v);
			if (!mm)
				return usage_error("unknown memmap '" + v + "'");
		} else if (a == "--ops" && parse_u64(v, n) && n > 0 && n <= 100000000)
			g.ops = n;
		else if (a == "--seed" && parse_u64(v, n))
			g.seed = n;
		else if (a == "--check-every" && parse_u64(v, n))
			g.check_every = n;
		else
			return usage_error("bad option '" + a + " " + v + "'");
	}
	auto c = preset(preset_name);
	if (!c)
		return usage_error("unknown preset '" + preset_name + "'");
	if (mm)
		c->memmap = *mm;
	std::fputs(generate_trace(*c, g).c_str(), stdout);
	return 0;
}

static int cmd_presets()
{
	std::printf("%-10s %10s %14s %15s %17s %17s %8s\n", "preset", "PAGE_SHIFT", "MAX_PAGE_ORDER", "pageblock_order",
		    "SECTION_SIZE_BITS", "pages/section", "THP");
	for (const auto &n : preset_names()) {
		config c = *preset(n);
		std::printf("%-10s %10u %14u %15u %17u %17llu %8s\n", n.c_str(), c.page_shift, c.max_page_order, c.pageblock_order,
			    c.section_size_bits, (unsigned long long)c.pages_per_section(),
			    c.thp_order < 0 ? "none" : std::to_string(c.thp_order).c_str());
	}
	return 0;
}

static int cmd_engines()
{
	std::printf("reference   the batched free family of the 2026 series (default)\n");
	std::printf("oracle      the per-page code it replaced\n");
	for (const auto &v : broken_variants())
		std::printf("%-20s negative control: %s\n", v.name, v.defect);
	return 0;
}

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.empty())
		return usage_error("no command");
	std::string cmd = args.front();
	args.erase(args.begin());
	try {
		if (cmd == "replay")
			return cmd_replay(args);
		if (cmd == "check")
			return cmd_check(args);
		if (cmd == "generate")
			return cmd_generate(args);
		if (cmd == "presets")
			return cmd_presets();
		if (cmd == "engines")
			return cmd_engines();
		if (cmd == "--help" || cmd == "-h" || cmd == "help") {
			std::fputs(usage_text, stdout);
			return 0;
		}
	} catch (const std::exception &e) {
		std::fprintf(stderr, "buddycheck: internal error: %s\n", e.what());
		return 2;
	}
	return usage_error("unknown command '" + cmd + "'");
}
