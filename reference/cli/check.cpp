#include "check.hpp"

#include "buddycheck/files.hpp"

#include "cache.hpp"
#include "candidate.hpp"
#include "process.hpp"
#include "recipe.hpp"
#include "reports.hpp"
#include "series.hpp"
#include "stages.hpp"
#include "tree.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/statvfs.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

// What a built-in candidate's header comment expects, per column.
std::map<std::string, std::string> expected_verdicts(const std::string &text)
{
	std::map<std::string, std::string> e;
	auto p = text.find("buddycheck-expect:");
	if (p == std::string::npos)
		return e;
	std::stringstream ss(text.substr(p + 18, text.find('\n', p) - p - 18));
	for (std::string kv; ss >> kv;)
		if (auto eq = kv.find('='); eq != std::string::npos)
			e[kv.substr(0, eq)] = kv.substr(eq + 1);
	return e;
}

} // namespace

// A directory that takes files, with room: else one line, before any work.
std::string writable_with_room(const fs::path &dir, uint64_t min_free, const char *what)
{
	std::error_code ec;
	fs::create_directories(dir, ec);
	if (ec)
		return std::string("cannot create the ") + what + " " + dir.string() + ": " + ec.message();
	const fs::path probe = dir / (".buddycheck-probe." + std::to_string(getpid()));
	{
		std::ofstream f(probe);
		f << "x";
		f.close();
		if (!f) {
			fs::remove(probe, ec);
			return std::string("cannot write in the ") + what + " " + dir.string();
		}
	}
	fs::remove(probe, ec);
	struct statvfs sv;
	if (statvfs(dir.c_str(), &sv) == 0) {
		const uint64_t free_bytes = uint64_t(sv.f_bavail) * sv.f_frsize;
		if (free_bytes < min_free)
			return std::string("the ") + what + " " + dir.string() + " has " + std::to_string(free_bytes >> 20) + " MiB free; " +
			       std::to_string(min_free >> 20) + " MiB are needed";
	}
	return "";
}

// The directory of this run: --out, or buddycheck-out/<time>-<pid> (so that
// concurrent runs never share one), with buddycheck-out/latest pointing at it.
fs::path run_directory(const check_options &opt)
{
	if (!opt.out.empty())
		return fs::absolute(opt.out).lexically_normal();
	char stamp[32];
	const std::time_t t = std::time(nullptr);
	std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
	return fs::absolute("buddycheck-out") / (std::string(stamp) + "-" + std::to_string(getpid()));
}

void point_latest(const fs::path &run)
{
	std::error_code ec;
	const fs::path link = run.parent_path() / "latest", tmp = run.parent_path() / (".latest." + std::to_string(getpid()));
	fs::create_symlink(run.filename(), tmp, ec);
	if (!ec)
		fs::rename(tmp, link, ec); // atomic: a concurrent run's link is replaced whole
	if (ec)
		fs::remove(tmp, ec);
}

namespace {

// ---------------------------------------------------------------- proofs

struct proofs_result {
	bool ran = false, pass = false, own_failure = false;
	std::string line; // the table's proofs line
};

std::string field(const std::string &line, const std::string &key)
{
	auto p = line.find(" " + key + "=");
	if (p == std::string::npos)
		return "";
	p += key.size() + 2;
	return line.substr(p, line.find(' ', p) - p);
}

// The Z3 proofs of the reference's chunk routine: once per build of the
// proofs binary (their verdict is deterministic: Z3's resource limit, not
// time), kept in the cache; $BUDDYCHECK_PROOFS names a stand-in binary.
proofs_result run_proofs(const fs::path &run_dir)
{
	proofs_result p;
	p.ran = true;
	fs::path bin;
	if (const char *e = std::getenv("BUDDYCHECK_PROOFS"); e && *e)
		bin = e;
	else
		bin = load_toolchain().proofs;
	if (bin.empty() || access(bin.c_str(), X_OK) != 0) {
		p.own_failure = true;
		p.line = "reference chunk routine (self-check): ERROR: cannot run the proofs: " +
			 (bin.empty() ? std::string("(no proofs binary in this build)") : bin.string()) +
			 " is not an executable (buddycheck's own failure: build the proofs target)";
		return p;
	}
	std::error_code ec;
	const std::string stamp = "buddycheck-proofs 1\n" + bin.string() + " " + std::to_string(fs::file_size(bin, ec)) + " " +
				  std::to_string(fs::last_write_time(bin, ec).time_since_epoch().count()) + "\n";
	std::string outcome;
	const cache_lookup l = cache_get("proofs", stamp, [&](const fs::path &tmp, std::string &log) {
		child_spec s;
		s.argv = {bin.string()};
		s.stdout_file = tmp / "proofs.log";
		s.stderr_to_stdout = true;
		s.lim = {900, 8ull << 30};
		const child_outcome o = run_child(s);
		log = slurp(tmp / "proofs.log");
		outcome = o.describe();
		// Cached only when it ended with its verdict (pass or fail), not
		// when it crashed or was stopped.
		return o.k == child_outcome::exited && (o.code == 0 || o.code == 1) && log.find("\nRESULT ") != std::string::npos;
	});
	std::string log = l.ok ? slurp(l.dir / "proofs.log") : l.log;
	std::ofstream(run_dir / "proofs.log") << log;
	std::string result;
	std::istringstream in(log);
	for (std::string line; std::getline(in, line);)
		if (line.rfind("RESULT ", 0) == 0)
			result = line;
	const fs::path shown = run_dir / "proofs.log";
	if (!l.ok || result.empty()) {
		p.own_failure = true;
		p.line = "reference chunk routine (self-check): ERROR (no result: the proofs binary " +
			 (outcome.empty() ? l.error : outcome) + "; see " + shown.string() + ")";
		return p;
	}
	auto f = [&](const char *k) { return field(result, k); };
	p.pass = f("verdict") == "pass";
	const double seconds = std::strtod(f("wall_ms").c_str(), nullptr) / 1000;
	char b[512];
	if (p.pass)
		std::snprintf(
			b, sizeof b,
			"reference chunk routine (self-check): %s obligations x %s configurations proved, %s mutants x %s refuted (%s%.1f s)",
			f("obligations").c_str(), f("configurations").c_str(), f("mutants").c_str(), f("configurations").c_str(),
			l.built ? "" : "cached: this build's proofs ran once, in ", seconds);
	else
		std::snprintf(
			b, sizeof b,
			"reference chunk routine (self-check): FAILED: %s cells of %s obligations and %s mutants x %s configurations (an obligation not "
			"proved or a mutant not refuted; see %s)",
			f("failed").c_str(), f("obligations").c_str(), f("mutants").c_str(), f("configurations").c_str(),
			shown.string().c_str());
	p.line = b;
	return p;
}

std::string padded(const std::string &s, size_t w) { return s + std::string(s.size() < w ? w - s.size() : 1, ' '); }

} // namespace

int run_check(const check_options &opt)
{
	const double started = now_seconds();
	const toolchain &t = load_toolchain();
	// --format json: the JSON alone on stdout; the table goes to stderr.
	FILE *tout = opt.format == "json" ? stderr : stdout;
	// The report files can be written: said before any long work.
	for (const auto &[path, what] : {std::pair{opt.sarif, "--sarif"}, std::pair{opt.junit, "--junit"}})
		if (!path.empty()) {
			std::ofstream f(path, std::ios::app);
			if (!f) {
				std::fprintf(stderr, "buddycheck: %s %s: cannot write the file\n", what, path.c_str());
				return exit_bad_input;
			}
		}
	check_report report;
	report.version = t.version;
	const bool builtin = opt.files.empty() && opt.tree.empty();
	std::vector<std::string> args = opt.files;
	if (builtin) {
		std::error_code ec;
		for (const auto &e : fs::directory_iterator(t.data_dir / "reference" / "candidates", ec))
			if (e.path().extension() == ".c")
				args.push_back(e.path().string());
		std::sort(args.begin(), args.end());
		if (args.empty())
			throw tool_failure{"no built-in candidates in " + (t.data_dir / "reference" / "candidates").string()};
	}
	// Before any long work: where the outputs and the builds go.
	const fs::path run = run_directory(opt);
	for (const auto &[dir, room, what] : {std::tuple{run, uint64_t(64) << 20, "output directory"},
					      std::tuple{cache_dir(), uint64_t(512) << 20, "build cache"}})
		if (std::string e = writable_with_room(dir, room, what); !e.empty()) {
			std::fprintf(stderr, "buddycheck: %s\n", e.c_str());
			return exit_bad_input;
		}
	if (opt.out.empty())
		point_latest(run);

	// 1. Inspect and build every candidate: bad input and compile errors
	// are reported at once, before any long stage.
	bool bad_input = false, own_failure = false, any_finding = false, any_unexpected = false;
	struct entry {
		candidate_source src;
		build_result build;
		fs::path out;
		bool untouched = false;         // a patch that changes none of the family: no cell to run
		std::vector<std::string> notes; // what its extraction saw and did not take
	};
	std::vector<entry> ready;
	std::map<std::string, int> stems;
	// The inputs: C files; a kernel tree; patches, mails and mboxes (with
	// the tree as their base, or alone).
	struct pending {
		candidate_source src;
		std::string dir; // its output directory's name (default: the file's stem)
		bool untouched = false;
		std::vector<std::string> notes;
	};
	std::vector<pending> inspected;
	std::vector<std::string> patch_files;
	for (const auto &a : args)
		if (!builtin && looks_like_patch(a))
			patch_files.push_back(a);
		else
			inspected.push_back({inspect_candidate(a), "", false, {}});
	if (!patch_files.empty()) {
		const series ser = read_series(patch_files, run / "series");
		std::string error = ser.error;
		std::vector<series_state> states;
		if (error.empty())
			states = opt.tree.empty() ? series_alone(ser, error)
						  : series_on_tree(ser, opt.tree, run / "series", error);
		if (!error.empty()) {
			std::fprintf(stderr, "buddycheck: %s\n", error.c_str());
			bad_input = true;
		}
		for (size_t k = 0; k < states.size(); k++) {
			if (states[k].src.label.empty())
				states[k].src.label = states[k].row;
			inspected.push_back({std::move(states[k].src),
					     opt.tree.empty() ? "patch-" + std::to_string(k + 1)
					     : k              ? "patch-" + std::to_string(k)
							      : "base",
					     states[k].untouched, std::move(states[k].notes)});
		}
	} else if (!opt.tree.empty()) {
		pending t;
		t.src = candidate_from_tree(opt.tree, "", t.notes);
		inspected.push_back(std::move(t));
	}
	for (auto &[src, dir, untouched, notes] : inspected) {
		std::error_code ec;
		if (untouched) {
			ready.push_back({std::move(src), {}, {}, true, std::move(notes)});
			continue;
		}
		if (!src.ok()) {
			std::fprintf(stderr, "buddycheck: %s\n", src.error.c_str());
			bad_input = true;
			continue;
		}
		build_result b = build_candidate(src, "runner");
		if (b.status != build_result::ok) {
			(report_build_failure(b, src.name()) == exit_bad_input ? bad_input : own_failure) = true;
			continue;
		}
		// One directory per candidate; files of the same name from two
		// directories get two.
		const std::string stem = dir.empty() ? src.file.stem().string() : dir;
		const int n = ++stems[stem];
		const fs::path out = run / (n == 1 ? stem : stem + "-" + std::to_string(n));
		fs::create_directories(out, ec);
		ready.push_back({std::move(src), std::move(b), out, false, std::move(notes)});
	}

	// 2. The proofs, beside the candidates' stages.
	proofs_result proofs;
	std::thread proofs_thread;
	const bool any_cell = std::any_of(ready.begin(), ready.end(), [](const entry &e) { return !e.untouched; });
	if (!opt.no_proofs && any_cell)
		proofs_thread = std::thread([&] { proofs = run_proofs(run); });

	// 3. The stages, candidate by candidate, one cell each.
	const auto stages = check_stages(opt);
	for (const auto &s : stages)
		report.columns.push_back({s->column(), s->legend()});
	report.out = run.string();
	if (!opt.tree.empty())
		report.tree = fs::absolute(opt.tree).lexically_normal().string();
	if (!ready.empty()) {
		// The memory-model columns name the kernel layout they stand for.
		for (const auto &s : stages)
			if (!s->legend().empty())
				std::fprintf(tout, "%-16s %s\n", s->column().c_str(), s->legend().c_str());
		std::fprintf(tout, "\n");
		std::string head = padded("candidate", 36);
		for (const auto &s : stages)
			head += padded(s->column(), 16);
		std::fprintf(tout, "%s%s\n", head.c_str(), builtin ? "expected" : "");
		std::fflush(tout);
	}
	std::vector<std::string> notes;
	for (const auto &e : ready) {
		row_report rr;
		rr.candidate = e.src.name();
		rr.file = e.src.file.string();
		rr.origin_kind = e.src.origin_kind;
		rr.origin = e.src.origin;
		rr.untouched = e.untouched;
		if (e.untouched) {
			report.rows.push_back(rr);
			std::fprintf(tout, "%suntouched (the patch changes no function of the family)\n",
				    padded(e.src.name(), 36).c_str());
			std::fflush(tout);
			continue;
		}
		candidate_ctx ctx;
		ctx.src = &e.src;
		ctx.runner = e.build.binary;
		ctx.out = e.out;
		ctx.opt = &opt;
		ctx.corpus = t.data_dir / "corpus" / "traces";
		ctx.data = t.data_dir / "corpus";
		ctx.self = self_path();
		const auto expect = expected_verdicts(e.src.text);
		std::string row = padded(e.src.name(), 36);
		bool row_ok = true;
		for (const auto &s : stages) {
			const double c0 = now_seconds();
			const cell c = s->run(ctx);
			rr.cells.push_back({s->column(), c.shown,
					    c.k == cell::pass ? "pass" : c.k == cell::finding ? "finding" : "error", now_seconds() - c0, c.found,
					    c.notes});
			row += padded(c.shown, 16);
			any_finding |= c.k == cell::finding;
			own_failure |= c.k == cell::own_failure;
			notes.insert(notes.end(), c.notes.begin(), c.notes.end());
			if (builtin && expect.count(s->column()) && expect.at(s->column()) != c.expect)
				row_ok = false;
		}
		if (builtin)
			any_unexpected |= !row_ok;
		if (rr.origin.empty())
			for (const auto &d : e.src.defined)
				rr.origin.push_back({d.name, e.src.file.string() + ":" + std::to_string(d.line)});
		report.rows.push_back(rr);
		std::fprintf(tout, "%s%s\n", row.c_str(), builtin ? (row_ok ? "as expected" : "UNEXPECTED (header expects other verdicts)") : "");
		// What was judged: the file's entry points (a tree's, with their
		// helpers, where the tree has them), the rest the reference's.
		std::string judged;
		if (!e.src.origin.empty())
			for (const auto &[fn, at] : e.src.origin)
				judged += (judged.empty() ? "" : ", ") + fn + " (" + at + ")";
		else
			for (const auto &d : e.src.defined)
				judged += (judged.empty() ? "" : ", ") + d.name + " (" + e.src.file.filename().string() + ":" +
					  std::to_string(d.line) + ")";
		// The entry points the file leaves to the reference, by name when
		// few (a tree's or a patch's: which ones it did not have).
		std::vector<std::string> from_reference;
		for (const auto &n : entry_point_names())
			if (std::none_of(e.src.defined.begin(), e.src.defined.end(),
					 [&](const definition &d) { return d.name == n; }))
				from_reference.push_back(n);
		std::string rest_text;
		if (!from_reference.empty() && from_reference.size() <= 3) {
			rest_text = "; from the reference: ";
			for (size_t i = 0; i < from_reference.size(); i++)
				rest_text += (i ? ", " : "") + from_reference[i];
		} else if (!from_reference.empty()) {
			rest_text = ", the other " + std::to_string(from_reference.size()) + " from the reference";
		}
		if (!builtin || opt.verbose) {
			std::fprintf(tout, "    from the %s: %s%s\n", e.src.origin_kind.c_str(), judged.c_str(),
				     rest_text.c_str());
			for (const auto &n : e.notes)
				std::fprintf(tout, "    note: %s\n", n.c_str());
			for (const auto &[d, n] : e.src.near_misses)
				std::fprintf(tout, "    note: %s:%d: %s is not an entry point; did you mean %s?\n", e.src.file.filename().string().c_str(), d.line,
					    d.name.c_str(), n.c_str());
		}
		std::fflush(tout);
	}
	if (proofs_thread.joinable())
		proofs_thread.join();
	if (proofs.ran) {
		std::fprintf(tout, "%s\n", proofs.line.c_str());
		own_failure |= proofs.own_failure;
	}
	const bool proofs_failed = proofs.ran && !proofs.own_failure && !proofs.pass;
	if (!notes.empty() && builtin && !any_unexpected && !opt.verbose) {
		std::fprintf(tout, "\n%zu findings, each where its candidate's header expects one; outputs in %s/ "
			    "(details: buddycheck check --verbose)\n",
			    notes.size(), run.string().c_str());
	} else if (!notes.empty()) {
		std::fprintf(tout, "\nfindings:\n");
		for (const auto &n : notes)
			std::fprintf(tout, "  %s\n", n.c_str());
		std::fprintf(tout, "\noutputs in %s/\n", run.string().c_str());
	}
	// A finding is never hidden behind another status: 1 first, then
	// buddycheck's own failure, then bad input.
	const bool finding = builtin ? any_unexpected || proofs_failed : any_finding || proofs_failed;
	const int status = finding ? exit_finding : own_failure ? exit_own_failure : bad_input ? exit_bad_input : exit_pass;
	if (own_failure && !finding)
		std::fprintf(stderr, "buddycheck: some verdicts are missing because buddycheck itself failed (see above); exit status 3\n");
	report.proofs = proofs.ran ? proofs.line : "";
	report.exit_status = status;
	report.seconds = now_seconds() - started;
	if (opt.format == "json")
		std::fputs(report_json(report).c_str(), stdout);
	for (const auto &[path, text] :
	     {std::pair{opt.sarif, opt.sarif.empty() ? std::string() : report_sarif(report)},
	      std::pair{opt.junit, opt.junit.empty() ? std::string() : report_junit(report)}})
		if (!path.empty()) {
			std::ofstream f(path, std::ios::trunc);
			f << text;
			f.close();
			if (!f)
				std::fprintf(stderr, "buddycheck: cannot write %s\n", path.c_str());
		}
	return status;
}

void add_check_command(CLI::App &app, check_options &opt)
{
	CLI::App *c = app.add_subcommand(
		"check",
		"Check candidate C files (default: the built-in candidates) against the naive per-page oracle: "
		"the golden traces and a randomized campaign under each memory model, the stateful property, "
		"the fuzz targets (each cell under its limits), the Z3 proofs of the candidate's compiled chunk loop, and "
		"the self-check proofs of the reference's chunk routine; prints the verdict table");
	c->footer(
		std::string(
			"Inputs:\n"
			"  buddycheck check FILE.c...                    your free functions in one file (or built-in names)\n"
			"  buddycheck check --tree LINUX                 the family as your kernel tree has it\n"
			"  buddycheck check --tree LINUX PATCH...        the tree before and after every patch of a series\n"
			"                                                (git format-patch files, a b4 am mbox, saved mails)\n"
			"  buddycheck check PATCH...                     the family's functions the patches add whole\n\n"
			"What each stage's time buys (buddycheck mutate --every-stage on the reference: of its 113 mutants with\n"
			"a counterexample, each stage alone finds):\n"
			"  golden traces (counted, < 1 s a column): 113 under sparse and sparse-hotplug (the walks across a hole),\n"
			"    99 under flat and vmemmap; 7 only a golden trace finds (caller errors the kernel WARNs or BUGs on);\n"
			"  the campaign (--seconds 1: histories on three layouts: one node, a hole, two nodes): 105 sparse, 91 flat;\n"
			"  the property (--property-seconds 1): 105, each shrunk to its shortest history;\n"
			"  the fuzzers (--fuzz-seconds 5 each, by the clock, under ASan/UBSan): differential 106, bulk 103.\n"
			"  A runaway loop is found by the first stage's limit; the efficiency verdict finds 7 more (not-batched).\n"
			"  the proofs column (Z3 on the candidate's compiled chunk loop; 2-9 s cold, cached per candidate): every\n"
			"    64-bit input and configuration for that loop, where the other stages try some; a refutation counts only\n"
			"    when its counterexample also fails on the candidate under the model.\n"
			"  'buddycheck mutate --every-stage FILE.c' measures the same for your own patch.\n\n") +
		c->get_footer());
	c->add_option("FILE.c", opt.files,
		      "candidate files, or built-in candidate names (naive, neg_uncapped_order, ...); also PATCH...: git "
		      "format-patch files, mboxes (b4 am), saved mails: with --tree, the tree after every patch; without, "
		      "the functions each patch adds whole");
	c->add_option("--tree", opt.tree,
		      "a kernel source tree: its own free family (mm/page_alloc.c, include/linux/mm.h, mm/vmalloc.c, ...), "
		      "found by libclang, is a candidate (what it lacks is the reference's); with PATCH...: the base the "
		      "series is applied to, in a private copy");
	c->add_option("--seconds", opt.seconds, "randomized campaign per candidate and memory model")->check(CLI::Range(0.0, 86400.0))->capture_default_str();
	c->add_option("--fuzz-seconds", opt.fuzz_seconds, "each libFuzzer target (0: none; fractions honoured)")
		->check(CLI::Range(0.0, 86400.0))
		->capture_default_str();
	c->add_option("--property-seconds", opt.property_seconds, "the stateful RapidCheck property (0: none)")
		->check(CLI::Range(0.0, 86400.0))
		->capture_default_str();
	c->add_option("--seed", opt.seed, "seed of the campaign, the property and the fuzzers")->capture_default_str();
	c->add_option("--out", opt.out, "this run's output directory (default: buddycheck-out/<time>-<pid>, and buddycheck-out/latest)");
	c->add_option("--cell-seconds", opt.cell_seconds,
		      "wall-clock limit of one cell (default: per column, 120 s + 3x its own time; fuzz: its time + 60 s)")
		->check(CLI::Range(0.0, 86400.0));
	c->add_option("--cell-memory-mb", opt.cell_memory_mb, "resident memory limit of one cell's processes, MiB")
		->check(CLI::Range(uint64_t(64), uint64_t(1) << 20))
		->capture_default_str();
	c->add_flag("--no-proofs", opt.no_proofs,
		    "skip the Z3 proofs: the proofs column (the candidate's chunk loop) and the reference's self-check");
	c->add_flag("--require-batched", opt.require_batched, "not-batched is a finding (for a patch that claims to batch)");
	c->add_flag("-v,--verbose", opt.verbose, "every finding in full, and what was judged");
	c->add_option("--format", opt.format, "text: the table; json: the table, every finding and the timings as JSON on stdout "
					      "(the table then goes to stderr)")
		->check(CLI::IsMember({"text", "json"}))
		->capture_default_str();
	c->add_option("--sarif", opt.sarif, "also write the findings as SARIF 2.1.0 to this file (code scanning)");
	c->add_option("--junit", opt.junit, "also write a JUnit XML report to this file (a testcase per candidate and column)");
}

} // namespace bc::cli
