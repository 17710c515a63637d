// buddycheck: the command-line front end (usage_text lists every subcommand).
//   check    candidates through the suite, property and fuzz stages (check.cpp)
//   replay   traces on the oracle and a batched engine or a candidate
//   corpus   the golden traces against their documented verdicts
//   generate, decode, wrapper, presets, engines: trace tools
//   bench    the seeds' experiments on the model (runs buddycheck-bench)
//   cache    the build cache (cache.cpp)
#include "buddycheck/decode.hpp"
#include "buddycheck/generate.hpp"
#include "cache.hpp"
#include "candidate.hpp"
#include "check.hpp"
#include "process.hpp"
#include "recipe.hpp"
#include "stages.hpp"
#include "buddycheck/replay.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace fs = std::filesystem;
using namespace bc;

static const char *usage_text =
	"usage: buddycheck check [--seconds S] [--fuzz-seconds S] [--property-seconds S] [--seed N] [--out DIR]\n"
	"                        [--cell-seconds S] [--cell-memory-mb M] [--no-proofs] [--require-batched] [--verbose] [FILE.c...]\n"
	"       buddycheck replay [--engine NAME | --candidate FILE.c] [--memmap M] [--full-checks] [--no-map] [--quiet] [--expect-documented] TRACE...\n"
	"       buddycheck corpus [--corpus DIR]\n"
	"       buddycheck generate [--preset NAME] [--memmap flat|vmemmap|sparse] [--zones kernel|preset] [--ops N] [--seed S]\n"
	"       buddycheck decode [--target differential|bulk] [--max-ops N] [--preset NAME] FUZZER_INPUT\n"
	"       buddycheck bench [--quick] [--repetitions N] [--json FILE] [--filter TEXT] [--engine NAME | --candidate FILE.c] [--memmap M]\n"
	"       buddycheck presets\n"
	"       buddycheck engines\n"
	"       buddycheck cache clean|info\n"
	"exit status: 0 no finding; 1 a finding (counterexample, failed proof, TIMEOUT, OOM, crash of the candidate);\n"
	"             2 bad input (unreadable file, a candidate that does not compile, bad options);\n"
	"             3 buddycheck's own failure; 130/143 interrupted (SIGINT/SIGTERM)\n"
	"'buddycheck check --help' lists check's options with their defaults.\n";

static int usage_error(const std::string &msg)
{
	std::fprintf(stderr, "buddycheck: %s\n%s", msg.c_str(), usage_text);
	return 2;
}

static fs::path source_dir() { return cli::load_toolchain().data_dir; }

static int cmd_replay(const std::vector<std::string> &args)
{
	replay_options opt;
	bool quiet = false, documented = false;
	std::string candidate, memmap_override;
	const free_family *engine = nullptr;
	std::vector<std::string> files;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "--candidate") {
			if (i + 1 == args.size())
				return usage_error("--candidate needs a C file");
			candidate = args[++i];
		} else if (a == "--memmap") {
			if (i + 1 == args.size() || !memmap_from_name(args[i + 1]))
				return usage_error("--memmap takes flat, vmemmap or sparse");
			memmap_override = args[++i];
		} else if (a == "--engine") {
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
	if (!candidate.empty() && engine)
		return usage_error("--engine and --candidate exclude each other");
	if (!candidate.empty() && documented)
		return usage_error("--expect-documented and --candidate exclude each other");
	if (!candidate.empty()) {
		// Replay with a candidate C file as the batched engine: its runner does it.
		const cli::candidate_source src = cli::inspect_candidate(candidate);
		if (!src.ok()) {
			std::fprintf(stderr, "buddycheck: %s\n", src.error.c_str());
			return 2;
		}
		cli::build_result b = cli::build_candidate(src, "runner");
		if (b.status != cli::build_result::ok) {
			std::fputs(b.output.c_str(), stderr);
			if (b.status == cli::build_result::compile_error) {
				std::fprintf(stderr, "buddycheck: %s does not compile\n", candidate.c_str());
				return 2;
			}
			std::fprintf(stderr, "buddycheck: cannot build %s (buddycheck's own failure)\n", candidate.c_str());
			return 3;
		}
		int status = 0;
		for (const auto &f : files) {
			cli::child_spec s;
			s.argv = {b.binary.string(), "replay"};
			if (!memmap_override.empty())
				s.argv.insert(s.argv.end(), {"--memmap", memmap_override});
			s.argv.push_back(f);
			s.env = cli::sanitizer_env();
			s.inherit_output = true;
			std::fflush(stdout);
			const cli::child_outcome o = cli::run_child(s);
			const int rc = o.k == cli::child_outcome::exited ? o.code : 1;
			if (o.k != cli::child_outcome::exited)
				std::printf("FINDING: the candidate %s\n", o.describe().c_str());
			status = std::max(status, rc == 0 ? 0 : rc == 2 ? 2 : 1);
		}
		return status;
	}
	int status = 0;
	for (const auto &f : files) {
		trace t;
		if (auto e = load_trace(f, t)) {
			std::fprintf(stderr, "%s\n", e->str().c_str());
			status = 2;
			continue;
		}
		opt.batched = engine ? engine : &reference_family();
		if (!memmap_override.empty())
			t.cfg.memmap = *memmap_from_name(memmap_override);
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
static int cmd_corpus(const std::vector<std::string> &args)
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
	bool kernel_zones = true;
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
		else if (a == "--zones" && (v == "kernel" || v == "preset"))
			kernel_zones = v == "kernel";
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
	if (kernel_zones)
		kernel_like_zones(*c);
	std::fputs(generate_trace(*c, g).c_str(), stdout);
	return 0;
}

// A fuzzer input as the text trace it stands for.
static int cmd_decode(const std::vector<std::string> &args)
{
	decode_options opt;
	std::string file;
	for (size_t i = 0; i < args.size(); i++) {
		uint64_t n;
		if (args[i] == "--max-ops" && i + 1 < args.size() && parse_u64(args[i + 1], n) && n > 0)
			opt.max_ops = n, i++;
		else if (args[i] == "--preset" && i + 1 < args.size() && preset(args[i + 1]))
			opt.preset = args[++i];
		else if (args[i] == "--target" && i + 1 < args.size() && (args[i + 1] == "differential" || args[i + 1] == "bulk"))
			opt.target = args[++i] == "bulk" ? decode_target::bulk : decode_target::differential;
		else if (args[i].rfind("--", 0) == 0)
			return usage_error("bad option '" + args[i] + "'");
		else
			file = args[i];
	}
	if (file.empty())
		return usage_error("decode needs a fuzzer input file");
	std::ifstream in(file, std::ios::binary);
	if (!in) {
		std::fprintf(stderr, "%s:0: cannot open: %s\n", file.c_str(), std::strerror(errno));
		return 2;
	}
	std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::fputs(decode_trace(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), opt).c_str(), stdout);
	return 0;
}

// The generated wrapper of a candidate (what the fuzz build compiles).
static int cmd_wrapper(const std::vector<std::string> &args)
{
	if (args.size() != 3 || args[1] != "-o")
		return usage_error("usage: buddycheck wrapper FILE.c -o WRAPPER.c");
	std::ifstream in(args[0], std::ios::binary);
	if (!in) {
		std::fprintf(stderr, "%s:0: cannot open: %s\n", args[0].c_str(), std::strerror(errno));
		return 2;
	}
	std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::string text = cli::make_wrapper(fs::absolute(args[0]), source);
	std::ofstream out(args[2]);
	out << text;
	return out ? 0 : 2;
}

// The benchmark is its own binary (it links Google Benchmark): run it with
// the same arguments; it prints its own usage errors (exit 2).  With
// --candidate FILE.c, the binary is the candidate's own bench build (cached).
static int cmd_bench(const std::vector<std::string> &args)
{
	std::string bin = cli::load_toolchain().bench_binary.string();
	if (bin.empty()) {
		std::fprintf(stderr, "buddycheck: this build has no benchmark (Google Benchmark was not found)\n");
		return 3;
	}
	std::vector<std::string> pass = args;
	for (size_t i = 0; i < pass.size(); i++) {
		if (pass[i] != "--candidate")
			continue;
		if (i + 1 == pass.size())
			return usage_error("--candidate needs a C file");
		if (std::find(pass.begin(), pass.end(), "--engine") != pass.end())
			return usage_error("--engine and --candidate exclude each other");
		const cli::candidate_source src = cli::inspect_candidate(pass[i + 1]);
		if (!src.ok()) {
			std::fprintf(stderr, "buddycheck: %s\n", src.error.c_str());
			return 2;
		}
		cli::build_result b = cli::build_candidate(src, "bench");
		if (b.status != cli::build_result::ok) {
			std::fputs(b.output.c_str(), stderr);
			std::fprintf(stderr, b.status == cli::build_result::compile_error ? "buddycheck: %s does not compile\n"
											 : "buddycheck: cannot build %s (buddycheck's own failure)\n",
				     pass[i + 1].c_str());
			return b.status == cli::build_result::compile_error ? 2 : 3;
		}
		bin = b.binary.string();
		pass[i + 1] = src.file.string();
		break;
	}
	std::vector<char *> argv;
	argv.push_back(bin.data());
	for (auto &a : pass)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	std::fflush(stdout);
	execv(bin.c_str(), argv.data());
	std::fprintf(stderr, "buddycheck: cannot run %s: %s (build the buddycheck-bench target)\n", bin.c_str(), std::strerror(errno));
	return 3;
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

// check and cache parse their options with CLI11; the other subcommands
// with their own loops (to be moved to CLI11 too).
static int cli11_command(int argc, char **argv)
{
	CLI::App app{"buddycheck: checks Linux page-allocator free paths against a per-page oracle"};
	app.require_subcommand(1);
	cli::check_options check;
	cli::add_check_command(app, check);
	std::vector<std::string> cache_args;
	CLI::App *cache = app.add_subcommand("cache", "The build cache: clean (remove every entry not in use) or info");
	cache->add_option("ACTION", cache_args, "clean | info")->required()->check(CLI::IsMember({"clean", "info"}));
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::fprintf(stderr, "buddycheck: %s (see 'buddycheck %s --help')\n", e.what(), argv[1]);
		return cli::exit_bad_input;
	}
	if (app.got_subcommand("cache"))
		return cli::cmd_cache(cache_args);
	return cli::run_check(check);
}

int main(int argc, char **argv)
{
	cli::install_interrupt_handlers();
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.empty())
		return usage_error("no command");
	std::string cmd = args.front();
	args.erase(args.begin());
	try {
		if (cmd == "check" || cmd == "cache")
			return cli11_command(argc, argv);
		if (cmd == "replay")
			return cmd_replay(args);
		if (cmd == "corpus")
			return cmd_corpus(args);
		if (cmd == "generate")
			return cmd_generate(args);
		if (cmd == "wrapper")
			return cmd_wrapper(args);
		if (cmd == "decode")
			return cmd_decode(args);
		if (cmd == "bench")
			return cmd_bench(args);
		if (cmd == "presets")
			return cmd_presets();
		if (cmd == "engines")
			return cmd_engines();
		if (cmd == "--help" || cmd == "-h" || cmd == "help") {
			std::fputs(usage_text, stdout);
			return 0;
		}
	} catch (const cli::tool_failure &e) {
		std::fprintf(stderr, "buddycheck: %s (buddycheck's own failure)\n", e.message.c_str());
		return cli::exit_own_failure;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "buddycheck: internal error: %s (buddycheck's own failure)\n", e.what());
		return cli::exit_own_failure;
	}
	return usage_error("unknown command '" + cmd + "'");
}
