// buddycheck: the command-line front end.
//   buddycheck replay TRACE...   replay traces on the oracle and a batched engine
//   buddycheck check             replay the golden traces, expecting their documented verdicts
//   buddycheck presets           list the configuration presets
//   buddycheck bench             the seeds' experiments on the model (runs buddycheck-bench)
#include "buddycheck/decode.hpp"
#include "buddycheck/generate.hpp"
#include "candidate.hpp"
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

#ifndef BUDDYCHECK_SOURCE_DIR
#define BUDDYCHECK_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using namespace bc;

static const char *usage_text =
	"usage: buddycheck replay [--engine NAME] [--full-checks] [--no-map] [--quiet] [--expect-documented] TRACE...\n"
	"       buddycheck check [--seconds S] [--fuzz-seconds S] [--property-seconds S] [--seed N] [--out DIR] [--verbose] [FILE.c...]\n"
	"       buddycheck corpus [--corpus DIR]\n"
	"       buddycheck generate [--preset NAME] [--memmap flat|vmemmap|sparse] [--zones kernel|preset] [--ops N] [--seed S]\n"
	"       buddycheck decode [--target differential|bulk] [--max-ops N] [--preset NAME] FUZZER_INPUT\n"
	"       buddycheck bench [--quick] [--repetitions N] [--json FILE] [--filter TEXT] [--engine NAME | --candidate FILE.c] [--memmap M]\n"
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
	if (!candidate.empty()) {
		// Replay with a candidate C file as the batched engine: its runner does it.
		cli::build_result b = cli::build_candidate(candidate);
		if (!b.ok) {
			std::fputs(b.compiler_output.c_str(), stderr);
			std::fprintf(stderr, "buddycheck: %s does not compile\n", candidate.c_str());
			return 2;
		}
		int status = 0;
		for (const auto &f : files) {
			std::string cmd = "'" + b.runner.string() + "' replay";
			if (!memmap_override.empty())
				cmd += " --memmap " + memmap_override;
			cmd += " '" + f + "'";
			int rc = std::system(cmd.c_str());
			rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
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

static bool parse_u64(const std::string &s, uint64_t &v);

// One candidate x memory model outcome of `buddycheck check`.
struct cell {
	std::string verdict; // pass, not-batched, counterexample, compile-error
	std::string detail;  // for a counterexample: invariant and message
	std::string trace;   // counterexample trace written
	std::string chunks;  // "N/M" chunks used / minimal
};

static std::string field(const std::string &line, const std::string &key)
{
	auto p = line.find(" " + key + "=");
	if (p == std::string::npos)
		return "";
	p += key.size() + 2;
	if (key == "message")
		return line.substr(p);
	return line.substr(p, line.find(' ', p) - p);
}

// Runs a runner command (its stderr redirected by the caller) and returns
// the last "RESULT ..." line it printed, without the newline; empty when it
// printed none (it died: a sanitizer report or a crash).
static std::string result_line(const std::string &cmd)
{
	std::string result;
	FILE *p = popen(cmd.c_str(), "r");
	if (!p)
		return result;
	char buf[4096];
	while (fgets(buf, sizeof buf, p))
		if (std::string(buf).rfind("RESULT ", 0) == 0)
			result = buf;
	pclose(p);
	if (!result.empty() && result.back() == '\n')
		result.pop_back();
	return result;
}

static std::string read_all(const fs::path &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// What a built-in candidate's header comment expects, per memory model.
static std::map<std::string, std::string> expected_verdicts(const fs::path &c)
{
	std::map<std::string, std::string> e;
	std::string text = read_all(c);
	auto p = text.find("buddycheck-expect:");
	if (p == std::string::npos)
		return e;
	std::stringstream ss(text.substr(p + 18, text.find('\n', p) - p - 18));
	std::string kv;
	while (ss >> kv) {
		auto eq = kv.find('=');
		if (eq != std::string::npos)
			e[kv.substr(0, eq)] = kv.substr(eq + 1);
	}
	return e;
}

// The Z3 proofs of the chunk routine (proofs/) are their own binary (it
// links Z3): `check` runs it beside the candidates and reads its RESULT line.
// BUDDYCHECK_PROOFS names another binary (the tests' failing stand-in).
static fs::path proofs_binary()
{
	if (const char *e = std::getenv("BUDDYCHECK_PROOFS"))
		return e;
#ifdef BUDDYCHECK_PROOFS_BIN
	return BUDDYCHECK_PROOFS_BIN;
#else
	return "";
#endif
}

struct proofs_run {
	FILE *pipe = nullptr;
	fs::path log;
};

// Starts the proofs binary (output to LOG); exit 2 if there is none.
static bool start_proofs(proofs_run &run, const fs::path &log)
{
	const fs::path bin = proofs_binary();
	if (bin.empty() || access(bin.c_str(), X_OK) != 0) {
		std::fprintf(stderr, "buddycheck: cannot run the proofs: %s is not an executable (build the proofs target)\n",
			     bin.empty() ? "(no proofs binary in this build)" : bin.c_str());
		return false;
	}
	run.log = log;
	std::string cmd = "'" + bin.string() + "' > '" + log.string() + "' 2>&1";
	run.pipe = popen(cmd.c_str(), "r");
	if (!run.pipe)
		std::fprintf(stderr, "buddycheck: cannot run the proofs: %s\n", std::strerror(errno));
	return run.pipe != nullptr;
}

// Waits for the proofs; prints their line of the table.  True when every
// obligation is proved and every mutant refuted.
static bool finish_proofs(proofs_run &run)
{
	int status = pclose(run.pipe);
	std::string result;
	std::ifstream in(run.log);
	for (std::string line; std::getline(in, line);)
		if (line.rfind("RESULT ", 0) == 0)
			result = line;
	const bool exited0 = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!exited0)
		std::fprintf(stderr, "buddycheck: the proofs ended with %s %d\n", status == -1 ? "pclose error" : WIFSIGNALED(status) ? "signal" : "exit status",
			     status == -1 ? errno : WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	auto f = [&](const char *k) { return field(result, k); };
	if (result.empty()) {
		std::printf("proofs: ERROR (no result, exit status %d; see %s)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			    run.log.string().c_str());
		return false;
	}
	const bool pass = exited0 && f("verdict") == "pass";
	const double seconds = std::strtod(f("wall_ms").c_str(), nullptr) / 1000;
	if (pass)
		std::printf("proofs: %s obligations x %s configurations proved, %s mutants x %s refuted (%.1f s)\n",
			    f("obligations").c_str(), f("configurations").c_str(), f("mutants").c_str(), f("configurations").c_str(),
			    seconds);
	else
		std::printf("proofs: FAILED: %s cells of %s obligations and %s mutants x %s configurations (an obligation not "
			    "proved or a mutant not refuted; see %s)\n",
			    f("failed").c_str(), f("obligations").c_str(), f("mutants").c_str(), f("configurations").c_str(),
			    run.log.string().c_str());
	return pass;
}

static int cmd_check(const std::vector<std::string> &args)
{
	double seconds = 1;
	double fuzz_seconds = 10;
	double property_seconds = 1;
	uint64_t seed = 1;
	bool verbose = false;
	fs::path out = "buddycheck-out";
	std::vector<fs::path> files;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		uint64_t n;
		if (a == "--seconds" && i + 1 < args.size()) {
			char *end = nullptr;
			seconds = std::strtod(args[++i].c_str(), &end);
			if (*end || seconds < 0 || seconds > 86400)
				return usage_error("--seconds takes a number of seconds (0..86400)");
		} else if (a == "--seed" && i + 1 < args.size()) {
			if (!parse_u64(args[++i], n))
				return usage_error("--seed takes a number");
			seed = n;
		} else if (a == "--out" && i + 1 < args.size()) {
			out = args[++i];
		} else if (a == "--fuzz-seconds" && i + 1 < args.size()) {
			char *end = nullptr;
			fuzz_seconds = std::strtod(args[++i].c_str(), &end);
			if (*end || fuzz_seconds < 0 || fuzz_seconds > 86400)
				return usage_error("--fuzz-seconds takes a number of seconds (0..86400; 0: no fuzzing)");
		} else if (a == "--property-seconds" && i + 1 < args.size()) {
			char *end = nullptr;
			property_seconds = std::strtod(args[++i].c_str(), &end);
			if (*end || property_seconds < 0 || property_seconds > 86400)
				return usage_error("--property-seconds takes a number of seconds (0..86400; 0: no property run)");
		} else if (a == "--verbose" || a == "-v") {
			verbose = true;
		} else if (a.rfind("--", 0) == 0) {
			return usage_error("unknown option '" + a + "'");
		} else {
			files.push_back(a);
		}
	}
	const bool builtin = files.empty();
	if (builtin) {
		for (const auto &e : fs::directory_iterator(cli::source_dir() / "reference" / "candidates"))
			if (e.path().extension() == ".c")
				files.push_back(e.path());
		std::sort(files.begin(), files.end());
	}
	std::error_code ec;
	fs::create_directories(out, ec);
	if (ec)
		return usage_error("cannot create output directory " + out.string() + ": " + ec.message());
	const fs::path corpus = cli::source_dir() / "corpus" / "traces";
	// The proofs run beside the candidates (their line ends the table).
	proofs_run proofs;
	if (!start_proofs(proofs, out / "proofs.log"))
		return 2;
	const char *models[] = {"flat", "vmemmap", "sparse"};
	bool any_cx = false, any_bad = false, any_unexpected = false;
	std::vector<std::string> notes;
	std::printf("%-36s %-16s %-16s %-16s %s%s%s\n", "candidate", "flat", "vmemmap", "sparse",
		    property_seconds > 0 ? "properties        " : "", fuzz_seconds > 0 ? "fuzz             " : "",
		    builtin ? "expected" : "");
	std::vector<std::pair<std::string, fs::path>> fuzzers;
	for (const auto &f : files) {
		cli::build_result b = cli::build_candidate(f);
		if (!b.ok) {
			std::fputs(b.compiler_output.c_str(), stderr);
			std::fprintf(stderr, "buddycheck: %s does not compile\n", f.string().c_str());
			any_bad = true;
			continue;
		}
		auto expect = expected_verdicts(f);
		std::string row;
		bool row_ok = true;
		for (const char *mm : models) {
			const std::string stem = f.stem().string() + "-" + mm;
			const fs::path prefix = out / stem;
			const fs::path err = out / (stem + ".log");
			std::string cmd = "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 '" + b.runner.string() + "' suite --memmap " + mm +
					  " --corpus '" + corpus.string() + "' --seconds " + std::to_string(seconds) + " --seed " +
					  std::to_string(seed) + " --out '" + prefix.string() + "' 2> '" + err.string() + "'";
			const std::string result = result_line(cmd);
			cell c;
			if (result.empty()) {
				// The runner died: a sanitizer report (or a crash) is the finding.
				std::string log = read_all(err), summary = "the candidate crashed";
				auto sp = log.find("SUMMARY: ");
				if (sp != std::string::npos)
					summary = log.substr(sp + 9, log.find('\n', sp) - sp - 9);
				// Name the candidate's own frame of the sanitizer's stack.
				const std::string base = fs::path(f).filename().string();
				for (size_t lp = log.find(base + ":"); lp != std::string::npos; lp = std::string::npos) {
					size_t end = log.find_first_of(" \n", lp);
					summary += "; in the candidate at " + log.substr(lp, end - lp);
				}
				c.verdict = "counterexample";
				c.detail = summary + " (full report: " + err.string() + ")";
				fs::path running = prefix.string() + "-running.trace", kept = prefix.string() + ".trace";
				fs::rename(running, kept, ec);
				c.trace = kept.string();
			} else {
				c.verdict = field(result, "verdict");
				c.detail = field(result, "invariant") + ": " + field(result, "message");
				c.trace = field(result, "trace");
			}
			if (c.verdict != "counterexample")
				fs::remove(err, ec); // nothing to read: keep the output directory to what matters
			char cellbuf[64];
			std::snprintf(cellbuf, sizeof cellbuf, "%s", c.verdict == "counterexample" ? "COUNTEREXAMPLE" : c.verdict.c_str());
			row += std::string(cellbuf) + std::string(c.verdict == "counterexample" ? 3 : std::max<int>(1, 17 - int(c.verdict.size())), ' ');
			if (c.verdict == "counterexample") {
				any_cx = true;
				notes.push_back(f.string() + " [" + mm + "]: " + c.detail + "\n    trace:  " + c.trace +
						"\n    replay: buddycheck replay --candidate " + f.string() + " --memmap " + mm + " " + c.trace);
			}
			if (builtin && expect[mm] != c.verdict)
				row_ok = false;
		}
		if (property_seconds > 0) {
			// The stateful property (properties/): falsified, with the length
			// of its shrunk history, or pass.  A sanitizer abort kills the
			// in-process run; the rerun forks a child per case and shrinks it.
			const std::string stem = f.stem().string();
			const fs::path err = out / (stem + "-properties.log");
			std::string result;
			for (const char *isolate : {"0", "1"}) {
				// Children that crash print reports by the dozen while shrinking: unsymbolized.
				std::string cmd = std::string("ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:symbolize=") +
						  (isolate[0] == '1' ? "0 '" : "1 '") +
						  b.runner.string() + "' properties --seconds " + std::to_string(property_seconds) + " --seed " +
						  std::to_string(seed) + " --out '" + (out / stem).string() + "' --candidate '" + f.string() +
						  "' --isolate " + isolate + " 2> '" + err.string() + "'";
				result = result_line(cmd);
				if (!result.empty())
					break;
			}
			std::string v = result.empty() ? "error" : field(result, "verdict"), cellv = v;
			if (v == "falsified") {
				cellv = "FALSIFIED(" + field(result, "ops") + (field(result, "ops") == "1" ? " op)" : " ops)");
				any_cx = true;
				notes.push_back(f.string() + " [properties]: " + field(result, "invariant") + ": " + field(result, "message") +
						"\n    trace:  " + field(result, "trace") + " (shrunk: " + field(result, "ops") +
						" operations)\n    replay: buddycheck replay --candidate " + f.string() + " " + field(result, "trace"));
			} else if (v == "pass") {
				fs::remove(err, ec);
			} else {
				any_bad = true;
				notes.push_back(f.string() + " [properties]: the property run failed; see " + err.string());
			}
			row += cellv + std::string(std::max<int>(1, 18 - int(cellv.size())), ' ');
			if (builtin && expect.count("properties") && expect["properties"] != v)
				row_ok = false;
		}
		if (fuzz_seconds > 0) {
			// differential_fuzzer and bulk_fuzzer of this candidate, side by side.
			std::string found_by, detail;
			for (const char *target : {"differential", "bulk"}) {
				cli::build_result fb = cli::build_fuzzer(f, target);
				if (!fb.ok) {
					std::fputs(fb.compiler_output.c_str(), stderr);
					std::fprintf(stderr, "buddycheck: the %s fuzzer of %s does not build\n", target, f.string().c_str());
					any_bad = true;
					continue;
				}
				fuzzers.emplace_back(target, fb.runner);
			}
			const std::string stem = f.stem().string();
			std::string cmd;
			for (const auto &[target, bin] : fuzzers) {
				const fs::path dir = out / (stem + "-" + target + "-fuzz");
				fs::remove_all(dir, ec);
				fs::create_directories(dir / "corpus", ec);
				const fs::path seeds = cli::source_dir() / "corpus" / (target + "_fuzzer");
				cmd += "( ASAN_OPTIONS=detect_leaks=0 '" + bin.string() + "' -seed=" + std::to_string(seed) +
				       " -max_total_time=" + std::to_string(int(fuzz_seconds)) + " -max_len=4096 -artifact_prefix='" +
				       (dir / "").string() + "' '" + (dir / "corpus").string() + "' '" + seeds.string() + "' > '" +
				       (dir / "fuzz.log").string() + "' 2>&1 ) & ";
			}
			cmd += "wait";
			if (!fuzzers.empty() && std::system(cmd.c_str()) == -1)
				any_bad = true;
			for (const auto &[target, bin] : fuzzers) {
				const fs::path dir = out / (stem + "-" + target + "-fuzz");
				fs::path crash;
				for (const auto &e : fs::directory_iterator(dir, ec))
					if (e.path().filename().string().rfind("crash-", 0) == 0 || e.path().filename().string().rfind("timeout-", 0) == 0 ||
					    e.path().filename().string().rfind("oom-", 0) == 0)
						crash = e.path();
				if (crash.empty())
					continue;
				std::string log = read_all(dir / "fuzz.log"), what = "a crash";
				for (const char *key : {"violated:", "ERROR: AddressSanitizer:", "runtime error:", "ERROR: libFuzzer:"}) {
					auto at = log.find(key);
					if (at != std::string::npos) {
						what = log.substr(at, log.find('\n', at) - at);
						break;
					}
				}
				std::string bytes = read_all(crash);
				decode_options dopt;
				dopt.target = std::string(target) == "bulk" ? decode_target::bulk : decode_target::differential;
				const fs::path tr = out / (stem + "-" + target + "_fuzzer.trace");
				std::ofstream(tr) << "# " << target << "_fuzzer finding in " << f.filename().string() << ": " << what << "\n"
						  << decode_trace(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), dopt);
				found_by += std::string(found_by.empty() ? "" : "+") + target;
				any_cx = true;
				notes.push_back(f.string() + " [" + target + "_fuzzer]: " + what + "\n    input:  " + crash.string() +
						"\n    trace:  " + tr.string() + "\n    replay: buddycheck replay --candidate " + f.string() + " " +
						tr.string());
			}
			fuzzers.clear();
			const std::string fz = found_by.empty() ? "clean" : "found";
			row += found_by.empty() ? "clean            " : "FOUND            ";
			if (builtin && expect.count("fuzz") && expect["fuzz"] != fz)
				row_ok = false;
		}
		if (builtin)
			any_unexpected |= !row_ok;
		std::string name = f.filename().string();
		std::printf("%-36s %s%s\n", name.c_str(), row.c_str(),
			    builtin ? (row_ok ? "as expected" : "UNEXPECTED (header expects other verdicts)") : "");
		std::fflush(stdout);
	}
	const bool proofs_ok = finish_proofs(proofs);
	if (!notes.empty() && builtin && !any_unexpected && !verbose) {
		std::printf("\n%zu counterexamples, each where its candidate's header expects one; traces in %s/ "
			    "(details: buddycheck check --verbose)\n",
			    notes.size(), out.string().c_str());
	} else if (!notes.empty()) {
		std::printf("\ncounterexamples:\n");
		for (const auto &n : notes)
			std::printf("  %s\n", n.c_str());
	}
	if (any_bad)
		return 2;
	if (builtin)
		return any_unexpected || !proofs_ok ? 1 : 0;
	return any_cx || !proofs_ok ? 1 : 0;
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
#ifdef BUDDYCHECK_BENCH_BIN
	std::string bin = BUDDYCHECK_BENCH_BIN;
	std::vector<std::string> pass = args;
	for (size_t i = 0; i < pass.size(); i++) {
		if (pass[i] != "--candidate")
			continue;
		if (i + 1 == pass.size())
			return usage_error("--candidate needs a C file");
		if (std::find(pass.begin(), pass.end(), "--engine") != pass.end())
			return usage_error("--engine and --candidate exclude each other");
		const fs::path c = cli::resolve_candidate(pass[i + 1]);
		if (!fs::is_regular_file(c)) {
			std::fprintf(stderr, "buddycheck: %s: no such file, nor a built-in candidate\n", pass[i + 1].c_str());
			return 2;
		}
		cli::build_result b = cli::build_bench(c);
		if (!b.ok) {
			std::fputs(b.compiler_output.c_str(), stderr);
			std::fprintf(stderr, "buddycheck: %s does not compile\n", pass[i + 1].c_str());
			return 2;
		}
		bin = b.runner.string();
		pass[i + 1] = c.string();
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
	return 2;
#else
	std::fprintf(stderr, "buddycheck: this build has no benchmark (Google Benchmark was not found)\n");
	return 2;
#endif
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
	} catch (const std::exception &e) {
		std::fprintf(stderr, "buddycheck: internal error: %s\n", e.what());
		return 2;
	}
	return usage_error("unknown command '" + cmd + "'");
}
