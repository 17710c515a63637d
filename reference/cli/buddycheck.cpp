// buddycheck: the command-line front end.  Every subcommand and option is
// declared once, in the CLI11 table of run_command(); '--help' (and
// 'buddycheck help [SUBCOMMAND]') prints what CLI11 generates from it.
//   check    candidates through the stages of check.cpp: golden traces and a
//            randomized campaign under each memory model, the stateful
//            property, the fuzz targets; then the proofs of the chunk routine
//   replay   traces on the naive per-page oracle and a batched engine or a candidate
//   corpus   the golden traces against their documented verdicts
//   generate, decode, wrapper, presets, engines: trace tools
//   bench    the seeds' experiments on the model (runs buddycheck-bench,
//            whose own CLI11 table its --help prints)
//   cache    the build cache (cache.cpp)
//   mutate   a mutation score for the checkers: mutants of a candidate
//            judged by check's stages (mutate.cpp, reference/mutate)
//   frag     the fragmentation study: vmalloc's policies on the model with
//            the kernel's allocation policy (frag*.cpp, reference/frag)
#include "buddycheck/decode.hpp"
#include "buddycheck/files.hpp"
#include "buddycheck/generate.hpp"
#include "cache.hpp"
#include "candidate.hpp"
#include "check.hpp"
#include "frag.hpp"
#include "mutate.hpp"
#include "process.hpp"
#include "recipe.hpp"
#include "stages.hpp"
#include "buddycheck/kunit.hpp"
#include "buddycheck/replay.hpp"
#include "buddycheck/report.hpp"

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

static const char *exit_status_text =
	"exit status: 0 no finding; 1 a finding (counterexample, failed proof, TIMEOUT, OOM, crash of the candidate);\n"
	"             2 bad input (unreadable file, a candidate that does not compile, bad options);\n"
	"             3 buddycheck's own failure; 130/143 interrupted (SIGINT/SIGTERM)\n";

static int usage_error(const std::string &msg)
{
	std::fprintf(stderr, "buddycheck: %s (see 'buddycheck --help')\n", msg.c_str());
	return 2;
}

static fs::path source_dir() { return cli::load_toolchain().data_dir; }

struct replay_args {
	std::string engine, candidate, memmap;
	bool full_checks = false, no_map = false, quiet = false, documented = false, kunit = false;
	std::vector<std::string> files;
};

static void add_replay_command(CLI::App &app, replay_args &a)
{
	CLI::App *c = app.add_subcommand(
		"replay", "Replay traces on the naive per-page oracle and a batched engine (or a candidate C file) in lockstep");
	c->add_option("TRACE", a.files, "trace files")->required();
	auto *eng = c->add_option(
		"--engine", a.engine,
		"the batched engine: reference (default), naive (alias oracle) or a negative control ('buddycheck engines')");
	auto *cand = c->add_option("--candidate", a.candidate, "a candidate C file (or a built-in candidate's name) as the batched engine");
	c->add_option("--memmap", a.memmap, "replay under this memory model")
		->check(CLI::IsMember({"flat", "vmemmap", "sparse", "sparse-hotplug"}));
	c->add_flag("--full-checks", a.full_checks, "the full invariant checker after every operation");
	c->add_flag("--no-map", a.no_map, "no pfn map in a counterexample");
	c->add_flag("-q,--quiet", a.quiet, "print only counterexamples");
	auto *doc = c->add_flag("--expect-documented", a.documented, "the verdict must be the one the trace's '# expect:' line documents");
	auto *kunit = c->add_flag(
		"--kunit", a.kunit,
		"print the trace as a KUnit test for a real tree (the oracle's expectations), instead of replaying it");
	eng->excludes(cand);
	doc->excludes(cand);
	kunit->excludes(cand)->excludes(eng)->excludes(doc);
}

static int cmd_replay_kunit(const replay_args &a)
{
	if (a.files.size() != 1)
		return usage_error("--kunit takes one trace");
	trace t;
	if (auto e = load_trace(a.files.front(), t)) {
		std::fprintf(stderr, "%s\n", e->str().c_str());
		return 2;
	}
	if (!a.memmap.empty())
		t.cfg.memmap = *memmap_from_name(a.memmap);
	const kunit_result k = kunit_reproducer(t);
	if (!k.error.empty()) {
		std::fprintf(stderr, "%s\n", k.error.c_str());
		return 2;
	}
	std::fputs(k.source.c_str(), stdout);
	return 0;
}

static int cmd_replay(const replay_args &a)
{
	if (a.kunit)
		return cmd_replay_kunit(a);
	replay_options opt;
	opt.full_checks = a.full_checks;
	opt.render_map = !a.no_map;
	const bool quiet = a.quiet, documented = a.documented;
	const std::string &candidate = a.candidate, &memmap_override = a.memmap;
	const std::vector<std::string> &files = a.files;
	const free_family *engine = nullptr;
	if (!a.engine.empty()) {
		engine = family_by_name(a.engine);
		if (!engine)
			return usage_error("unknown engine '" + a.engine + "' (see 'buddycheck engines')");
	}
	if (!candidate.empty()) {
		// Replay with a candidate C file as the batched engine: its runner does it.
		const cli::candidate_source src = cli::inspect_candidate(candidate);
		if (!src.ok()) {
			std::fprintf(stderr, "buddycheck: %s\n", src.error.c_str());
			return 2;
		}
		cli::build_result b = cli::build_candidate(src, "runner");
		if (b.status != cli::build_result::ok)
			return cli::report_build_failure(b, candidate);
		int status = 0;
		for (const auto &f : files) {
			cli::child_spec s;
			s.argv = {b.binary.string(), "replay"};
			if (!memmap_override.empty())
				s.argv.insert(s.argv.end(), {"--memmap", memmap_override});
			s.argv.push_back(f);
			s.env = cli::sanitizer_env();
			s.inherit_output = true;
			s.lim = {600, 4096ull << 20}; // as a check cell's (a runaway candidate is a finding)
			std::fflush(stdout);
			const cli::child_outcome o = cli::run_child(s);
			const int rc = o.k == cli::child_outcome::exited ? o.code : 1;
			if (o.k == cli::child_outcome::timeout || o.k == cli::child_outcome::oom)
				std::printf("%s: %s: the candidate %s\n", o.k == cli::child_outcome::timeout ? "TIMEOUT" : "OOM", f.c_str(),
					    o.describe().c_str());
			else if (o.k == cli::child_outcome::spawn_failed) {
				std::fprintf(stderr, "buddycheck: cannot run the candidate's runner: %s (buddycheck's own failure)\n", o.error.c_str());
				return 3;
			}
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
static int cmd_corpus(const std::string &corpus_dir)
{
	const fs::path dir = corpus_dir.empty() ? source_dir() / "corpus" / "traces" : fs::path(corpus_dir);
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

struct generate_args {
	std::string preset = "small", memmap, zones = "kernel", alloc = "canonical";
	generate_options g;
};

static void add_generate_command(CLI::App &app, generate_args &a)
{
	CLI::App *c = app.add_subcommand("generate", "Print a random valid history (a trace)");
	c->add_option("--preset", a.preset, "configuration preset ('buddycheck presets')")->capture_default_str();
	c->add_option("--memmap", a.memmap, "memory model")
		->check(CLI::IsMember({"flat", "vmemmap", "sparse", "sparse-hotplug"}));
	c->add_option("--zones", a.zones,
		      "zone layout: the kernel's (inner boundary aligned), the preset's, or two-node (two NUMA nodes, a hole "
		      "in node 0, zones DMA, Normal, Normal1)")
		->check(CLI::IsMember({"kernel", "preset", "two-node"}))
		->capture_default_str();
	c->add_option("--alloc", a.alloc,
		      "allocation policy of the trace: canonical (the lowest free block, the default) or kernel (pcp and "
		      "free list heads, the migratetype fallback; replayed with the batched engine steered to the oracle's "
		      "choices)")
		->check(CLI::IsMember({"canonical", "kernel"}))
		->capture_default_str();
	c->add_option("--ops", a.g.ops, "operations")->check(CLI::Range(uint64_t(1), uint64_t(100000000)))->capture_default_str();
	c->add_option("--seed", a.g.seed, "seed")->capture_default_str();
	c->add_option("--check-every", a.g.check_every, "a 'check' line every N operations (0: none)")->capture_default_str();
}

// A random valid history, for timing and as seed material.
static int cmd_generate(const generate_args &a)
{
	const std::string &preset_name = a.preset;
	std::optional<memmap_model> mm;
	if (!a.memmap.empty())
		mm = memmap_from_name(a.memmap);
	const generate_options &g = a.g;
	const bool kernel_zones = a.zones == "kernel";
	auto c = preset(preset_name);
	if (!c)
		return usage_error("unknown preset '" + preset_name + "'");
	if (mm)
		c->memmap = *mm;
	if (kernel_zones)
		kernel_like_zones(*c);
	else if (a.zones == "two-node")
		two_node_layout(*c);
	if (a.alloc == "kernel")
		c->alloc = alloc_policy::kernel;
	std::fputs(generate_trace(*c, g).c_str(), stdout);
	return 0;
}

// A fuzzer input as the text trace it stands for.
struct decode_args {
	decode_options opt;
	std::string target = "differential", file;
};

static void add_decode_command(CLI::App &app, decode_args &a)
{
	CLI::App *c = app.add_subcommand("decode", "Print a fuzzer input as the trace it stands for");
	c->add_option("FUZZER_INPUT", a.file, "a libFuzzer input file")->required();
	c->add_option("--target", a.target, "the fuzz target the input is for")->check(CLI::IsMember({"differential", "bulk"}))->capture_default_str();
	c->add_option("--max-ops", a.opt.max_ops, "cut the history at N operations")->check(CLI::PositiveNumber);
	c->add_option("--preset", a.opt.preset, "decode on this preset")->check([](const std::string &p) {
		return preset(p) ? std::string() : "unknown preset '" + p + "' (see 'buddycheck presets')";
	});
}

static int cmd_decode(const decode_args &a)
{
	decode_options opt = a.opt;
	opt.target = a.target == "bulk" ? decode_target::bulk : decode_target::differential;
	const std::string &file = a.file;
	std::string bytes;
	if (auto err = read_file(file, bytes)) {
		std::fprintf(stderr, "%s:0: %s\n", file.c_str(), err->c_str());
		return 2;
	}
	std::fputs(decode_trace(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), opt).c_str(), stdout);
	return 0;
}

// The generated wrapper of a candidate (what the fuzz build compiles).
static int cmd_wrapper(const std::string &file, const std::string &out_file)
{
	std::string source;
	if (auto err = read_file(file, source)) {
		std::fprintf(stderr, "%s:0: %s\n", file.c_str(), err->c_str());
		return 2;
	}
	std::string text = cli::make_wrapper(fs::absolute(file), source);
	std::ofstream out(out_file);
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
			return usage_error("--engine excludes --candidate (see 'buddycheck bench --help')");
		const cli::candidate_source src = cli::inspect_candidate(pass[i + 1]);
		if (!src.ok()) {
			std::fprintf(stderr, "buddycheck: %s\n", src.error.c_str());
			return 2;
		}
		cli::build_result b = cli::build_candidate(src, "bench");
		if (b.status != cli::build_result::ok)
			return cli::report_build_failure(b, pass[i + 1]);
		bin = b.binary.string();
		pass[i + 1] = src.file.string();
		break;
	}
	// A child under limits, as every other (its output is the table).
	cli::child_spec s;
	s.argv = {bin};
	s.argv.insert(s.argv.end(), pass.begin(), pass.end());
	s.inherit_output = true;
	s.lim = {1800, 16ull << 30};
	std::fflush(stdout);
	const cli::child_outcome o = cli::run_child(s);
	if (o.k == cli::child_outcome::exited)
		return o.code;
	if (o.k == cli::child_outcome::spawn_failed) {
		std::fprintf(stderr, "buddycheck: cannot run %s: %s (build the buddycheck-bench target; buddycheck's own failure)\n", bin.c_str(),
			     o.error.c_str());
		return 3;
	}
	std::fprintf(stderr, "buddycheck bench: the benchmark %s\n", o.describe().c_str());
	return 1;
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
	std::printf("%-20s the batched free family of the 2026 series (default)\n", reference_family().name);
	std::printf("%-20s the per-page code it replaced, the oracle (alias: oracle)\n", oracle_family().name);
	for (const auto &v : broken_variants())
		std::printf("%-20s negative control: %s\n", v.name, v.defect);
	return 0;
}

// Every subcommand's options are parsed by CLI11: the same errors (one line,
// exit 2) and the same rule for options that exclude each other everywhere.
// bench passes its arguments on to the benchmark binary, which parses them.
static int run_command(int argc, char **argv)
{
	CLI::App app{"buddycheck: checks Linux page-allocator free paths against the naive per-page oracle", "buddycheck"};
	app.require_subcommand(1);
	app.set_version_flag("--version", [] { return "buddycheck " + cli::load_toolchain().version; }, "print buddycheck's version and exit");
	app.footer(exit_status_text);
	cli::check_options check;
	cli::add_check_command(app, check);
	cli::mutate_options mutate;
	cli::add_mutate_command(app, mutate);
	cli::frag_options frag;
	cli::add_frag_command(app, frag);
	replay_args replay;
	add_replay_command(app, replay);
	std::string corpus_dir;
	app.add_subcommand("corpus", "Replay the golden traces against their documented verdicts")
		->add_option("--corpus", corpus_dir, "trace directory (default: the golden traces)");
	generate_args generate;
	add_generate_command(app, generate);
	decode_args decode;
	add_decode_command(app, decode);
	std::string wrapper_in, wrapper_out;
	CLI::App *wrapper = app.add_subcommand("wrapper", "Write the generated wrapper of a candidate (what a fuzz build compiles)");
	wrapper->add_option("FILE.c", wrapper_in, "candidate")->required();
	wrapper->add_option("-o", wrapper_out, "output file")->required();
	CLI::App *bench = app.add_subcommand(
		"bench", "The seeds' experiments on the model (Google Benchmark); 'buddycheck bench --help' prints its options");
	bench->prefix_command();
	bench->set_help_flag(); // --help is the benchmark binary's
	app.add_subcommand("presets", "List the configuration presets");
	app.add_subcommand("engines",
			   "List the engines: the batched reference, naive (the per-page oracle) and the negative controls");
	std::string cache_action;
	CLI::App *cache = app.add_subcommand("cache", "The build cache: clean (remove every entry not in use) or info");
	cache->add_option("ACTION", cache_action, "clean: remove every entry not in use; info: where it is, its entries and size")
		->required()
		->check(CLI::IsMember({"clean", "info"}));
	const std::string first = argv[1];
	if (first == "--version" || first == "version") {
		std::printf("buddycheck %s\n", cli::load_toolchain().version.c_str());
		return 0;
	}
	if (first == "help") {
		// 'buddycheck help [SUBCOMMAND]': the same text as --help.
		const CLI::App *sub = nullptr;
		if (argc > 2) {
			const std::string name = argv[2];
			auto subs = app.get_subcommands([&](const CLI::App *c) { return c->get_name() == name; });
			if (subs.empty())
				return usage_error("unknown command '" + name + "'");
			sub = subs.front();
		}
		if (sub && sub->get_name() == "bench") {
			std::vector<std::string> help{"--help"};
			return cmd_bench(help);
		}
		std::fputs((sub ? sub->help(app.get_name()) : app.help()).c_str(), stdout);
		return 0;
	}
	if (first[0] != '-' && app.get_subcommands([&](const CLI::App *c) { return c->get_name() == first; }).empty())
		return usage_error(std::string("unknown command '") + argv[1] + "'");
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		const std::string sub = argc > 1 && argv[1][0] != '-' ? std::string(" ") + argv[1] : "";
		std::fprintf(stderr, "buddycheck: %s (see 'buddycheck%s --help')\n", e.what(), sub.c_str());
		return cli::exit_bad_input;
	}
	if (app.got_subcommand("check"))
		return cli::run_check(check);
	if (app.got_subcommand("mutate"))
		return cli::run_mutate(mutate);
	if (app.got_subcommand("frag")) {
		// As a user types it (the report prints it): no build path.
		std::vector<std::string> words(argv, argv + argc);
		words[0] = "buddycheck";
		frag.command_line = cli::shell_line(words);
		return cli::run_frag(frag);
	}
	if (app.got_subcommand("replay"))
		return cmd_replay(replay);
	if (app.got_subcommand("corpus"))
		return cmd_corpus(corpus_dir);
	if (app.got_subcommand("generate"))
		return cmd_generate(generate);
	if (app.got_subcommand("decode"))
		return cmd_decode(decode);
	if (app.got_subcommand("wrapper"))
		return cmd_wrapper(wrapper_in, wrapper_out);
	if (app.got_subcommand("bench"))
		return cmd_bench(bench->remaining());
	if (app.got_subcommand("presets"))
		return cmd_presets();
	if (app.got_subcommand("engines"))
		return cmd_engines();
	return cli::cmd_cache({cache_action});
}

int main(int argc, char **argv)
{
	cli::install_interrupt_handlers();
	if (argc < 2)
		return usage_error("no command");
	try {
		return run_command(argc, argv);
	} catch (const cli::tool_failure &e) {
		std::fprintf(stderr, "buddycheck: %s (buddycheck's own failure)\n", e.message.c_str());
		return cli::exit_own_failure;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "buddycheck: internal error: %s (buddycheck's own failure)\n", e.what());
		return cli::exit_own_failure;
	}
}
