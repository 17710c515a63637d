#include "stages.hpp"

#include "buddycheck/files.hpp"

#include "buddycheck/decode.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

// The runner's RESULT line (a JSON object), or null.
nlohmann::json result_of(const fs::path &stdout_file)
{
	std::ifstream in(stdout_file);
	nlohmann::json r;
	for (std::string line; std::getline(in, line);)
		if (line.rfind("RESULT ", 0) == 0) {
			try {
				r = nlohmann::json::parse(line.substr(7));
			} catch (const std::exception &) {
			}
		}
	return r;
}

std::string str(const nlohmann::json &j, const char *k)
{
	if (!j.is_object() || !j.contains(k))
		return "";
	const auto &v = j.at(k);
	return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string signal_name(int sig)
{
	const char *abbrev = sigabbrev_np(sig);
	return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// The work a time budget stands for, as counts: the same verdict on a fast
// and a slow machine (measured on this project's machine under ASan: about
// 100 generated histories, and 3 rounds of 50 property cases, a second).
uint64_t campaign_histories(double seconds) { return uint64_t(std::llround(seconds * 100)); }
uint64_t property_rounds(double seconds) { return std::max<uint64_t>(1, uint64_t(std::llround(seconds * 3))); }

double cell_wall(const check_options &o, double own)
{
	return o.cell_seconds > 0 ? o.cell_seconds : own;
}

limits cell_limits(const check_options &o, double own_seconds)
{
	limits l{cell_wall(o, own_seconds), o.cell_memory_mb << 20};
	l.stack_grace_seconds = 5; // past the limit, ASan's abort handler says where the candidate was
	return l;
}

// The candidate's frames of a crash report: "at:" where it happened,
// "from:" its callers (the stack's first frame is that place too).
std::string stack_lines(const crash_report &cr)
{
	if (cr.frame.empty())
		return "";
	std::string s = "\n    at:     " + cr.frame;
	for (size_t i = 1; i < cr.stack.size(); i++)
		s += "\n    from:   " + cr.stack[i];
	return s;
}

// "file.c:12" from the first "at:" line of a crash's lines ("at:     file.c:12 in fn").
std::string where_of(const std::string &what)
{
	const size_t at = what.find("\n    at:     ");
	if (at == std::string::npos)
		return "";
	std::string f = what.substr(at + 14, what.find('\n', at + 14) - at - 14);
	f = f.substr(0, f.find(' '));
	return f.find(':') == std::string::npos ? "" : f;
}

// What a runner's end means when it printed no RESULT: the limit it hit, or
// a crash of the candidate (with its report), or buddycheck's own failure.
// A suite runner (PREFIX not empty) leaves PREFIX-running.trace (the trace it
// was in, kept as PREFIX.trace) and PREFIX.progress (the operation).
cell ended_without_result(const candidate_ctx &c, const child_outcome &o, const fs::path &log, const std::string &prefix,
			  const std::string &where)
{
	cell x;
	std::error_code ec;
	std::string origin;
	const fs::path running = prefix + "-running.trace", kept = prefix + ".trace";
	if (!prefix.empty() && fs::exists(running, ec)) {
		std::ifstream in(running);
		std::getline(in, origin);
		if (origin.rfind("# ", 0) == 0)
			origin = origin.substr(2);
		fs::rename(running, kept, ec);
	}
	// The operation it was in, which the runner published.
	std::string operation;
	if (!prefix.empty()) {
		const fs::path prog = prefix + ".progress";
		std::string p = slurp(prog);
		p = p.substr(0, p.find('\0'));
		if (const size_t nl = p.find('\n'); nl != std::string::npos) {
			origin = p.substr(0, nl);
			operation = p.substr(nl + 1);
		}
		fs::remove(prog, ec);
	}
	const std::string file = c.src->name();
	if (o.k == child_outcome::exited && o.code == 2) {
		std::string text = slurp(log);
		x.k = cell::own_failure;
		x.shown = "ERROR";
		x.notes.push_back(file + " [" + where + "]: buddycheck's runner rejected its arguments (buddycheck's own failure): " +
				  text.substr(0, text.find('\n')) + "\n    log: " + log.string());
		return x;
	}
	x.k = cell::finding;
	x.expect = "counterexample";
	std::string what;
	if (o.k == child_outcome::timeout || o.k == child_outcome::oom) {
		x.shown = o.k == child_outcome::timeout ? "TIMEOUT" : "OOM";
		x.expect = o.k == child_outcome::timeout ? "timeout" : "oom";
		what = x.shown + ": the candidate " + o.describe();
		// Stopped with SIGABRT first: the loop it was in, from the stack.
		const crash_report cr = read_crash_report(slurp(log), c.src->code_files());
		if (!cr.frame.empty())
			what += stack_lines(cr);
	} else {
		const crash_report cr = read_crash_report(slurp(log), c.src->code_files());
		if (!cr.headline.empty()) {
			x.shown = "COUNTEREXAMPLE";
			what = cr.headline;
		} else {
			x.shown = o.k == child_outcome::signaled ? "CRASH(" + signal_name(o.signal) + ")" : "CRASH(exit " + std::to_string(o.code) + ")";
			what = "the candidate crashed: " + o.describe();
		}
		if (!cr.frame.empty())
			what += stack_lines(cr);
		else
			// Candidate code ran in that process and may have corrupted it,
			// so the crash is its finding; but say what the stack shows.
			what += "\n    at:     no frame of " + file + " in the stack (if the candidate did not corrupt memory, "
				"this is buddycheck's own bug: the log has the whole report)";
	}
	// Which part of a suite was running: a campaign's origin says "generated".
	if (!origin.empty())
		x.part = origin.rfind("generated", 0) == 0 ? "campaign" : "golden";
	std::string note = file + " [" + where + "]: " + what;
	if (!operation.empty())
		note += "\n    in:     " + origin + ":" + operation;
	else if (!origin.empty())
		note += "\n    while:  " + origin;
	note += "\n    log:    " + log.string();
	finding_record fr;
	if (!prefix.empty() && fs::exists(kept, ec)) {
		note += "\n    trace:  " + kept.string();
		fr.trace = kept.string();
	}
	x.notes.push_back(note);
	fr.rule = x.shown.rfind("CRASH", 0) == 0 ? "crash" : x.shown == "COUNTEREXAMPLE" ? what.substr(0, what.find(':')) : x.shown;
	fr.message = what.substr(0, what.find('\n'));
	fr.source = where_of(what);
	x.found.push_back(fr);
	return x;
}

// ---------------------------------------------------------------- suite

struct suite_stage : stage {
	std::string mm;
	std::string parts; // golden, campaign or both
	explicit suite_stage(std::string m, std::string p = "both") : mm(std::move(m)), parts(std::move(p)) {}
	std::string column() const override { return parts == "both" ? mm : parts + "/" + mm; }
	std::string legend() const override { return memmap_kernel_layout(*memmap_from_name(mm)); }

	cell run(const candidate_ctx &c) const override
	{
		const check_options &o = *c.opt;
		const std::string name = parts == "both" ? mm : parts + "-" + mm;
		const fs::path prefix = c.out / name, log = c.out / (name + ".log"), res = c.out / (name + ".result");
		child_spec s;
		s.argv = {c.runner.string(), "suite",
			  "--memmap",        mm,
			  "--corpus",        c.corpus.string(),
			  "--histories",     std::to_string(campaign_histories(o.seconds)),
			  "--seed",          std::to_string(o.seed),
			  "--out",           prefix.string(),
			  "--parts",         parts};
		s.env = sanitizer_env();
		s.stdout_file = res;
		s.stderr_file = log;
		// Golden traces and the campaign: under 20 s on this project's
		// machine with ASan; the limit leaves room for a loaded one.
		s.lim = cell_limits(o, 120 + 3 * o.seconds);
		const child_outcome out = run_child(s);
		const nlohmann::json r = result_of(res);
		if (out.k == child_outcome::spawn_failed) {
			cell x;
			x.k = cell::own_failure;
			x.shown = "ERROR";
			x.notes.push_back(c.src->name() + " [" + mm +
					  "]: buddycheck could not run the candidate's runner: " + out.error);
			return x;
		}
		if (r.is_null())
			return ended_without_result(c, out, log, prefix.string(), mm);
		std::error_code pec;
		fs::remove(prefix.string() + ".progress", pec);
		cell x;
		const std::string v = str(r, "verdict");
		x.expect = v;
		std::error_code ec;
		if (v == "counterexample") {
			x.k = cell::finding;
			x.shown = "COUNTEREXAMPLE";
			x.part = str(r, "part");
			const std::string trace = str(r, "trace");
			const std::string source = str(r, "source");
			x.found.push_back({str(r, "invariant"), str(r, "message"), source, trace,
					   shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(), "--memmap", mm, trace})});
			x.notes.push_back(c.src->name() + " [" + mm + "]: " + str(r, "invariant") + ": " + str(r, "message") +
					  (source.empty() ? "" : "\n    source: " + source + " (the call that broke it)") +
					  "\n    at:     " + trace + ":" + str(r, "line") + ": " + str(r, "operation") +
					  "\n    trace:  " + trace + "\n    replay: " +
					  shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(), "--memmap",
						      mm, trace}));
		} else if (v == "pass" || v == "not-batched") {
			x.shown = v;
			if (v == "not-batched" && o.require_batched) {
				x.k = cell::finding;
				x.shown = "NOT-BATCHED";
				x.found.push_back({"not_batched", str(r, "message") + " (" + str(r, "chunks") + " chunks, minimal " + str(r, "minimal") + ")", "", "", ""});
				x.notes.push_back(c.src->name() + " [" + mm + "]: " + str(r, "message") + " (" +
						  str(r, "chunks") + " chunks, minimal " + str(r, "minimal") +
						  "; --require-batched)");
			}
			fs::remove(log, ec);
		} else {
			x.k = cell::own_failure;
			x.shown = "ERROR";
			x.notes.push_back(c.src->name() + " [" + mm + "]: the runner's result is not understood: " + r.dump());
		}
		return x;
	}
};

// ---------------------------------------------------------------- properties

struct properties_stage : stage {
	std::string column() const override { return "properties"; }

	cell run(const candidate_ctx &c) const override
	{
		const check_options &o = *c.opt;
		const fs::path log = c.out / "properties.log", res = c.out / "properties.result";
		child_outcome out;
		nlohmann::json r;
		// In process first; a sanitizer abort kills that run, and the rerun
		// forks a child per case so that the crash is shrunk too.
		for (const char *isolate : {"0", "1"}) {
			child_spec s;
			s.argv = {c.runner.string(), "properties", "--rounds", std::to_string(property_rounds(o.property_seconds)), "--seed",
				  std::to_string(o.seed), "--out",
				  (c.out / "candidate").string(), "--candidate", c.src->file.string(), "--isolate", isolate};
			s.env = sanitizer_env(isolate[0] == '0'); // crashing children print dozens of reports while shrinking
			s.stdout_file = res;
			s.stderr_file = log;
			s.lim = cell_limits(o, 120 + 3 * o.property_seconds);
			out = run_child(s);
			r = result_of(res);
			if (!r.is_null() || out.k == child_outcome::timeout || out.k == child_outcome::oom)
				break;
		}
		if (r.is_null())
			return ended_without_result(c, out, log, "", "properties");
		cell x;
		const std::string v = str(r, "verdict");
		x.expect = v;
		std::error_code ec;
		if (v == "falsified") {
			const std::string ops = str(r, "ops");
			x.k = cell::finding;
			x.shown = "FALSIFIED(" + ops + (ops == "1" ? " op)" : " ops)");
			x.found.push_back({str(r, "invariant"), str(r, "message"), str(r, "source"), str(r, "trace"),
					   shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(), str(r, "trace")})});
			x.notes.push_back(
				c.src->name() + " [properties]: " + str(r, "invariant") + ": " + str(r, "message") +
				"\n    trace:  " + str(r, "trace") + " (shrunk: " + ops + " operations)\n    replay: " +
				shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(), str(r, "trace")}));
		} else if (v == "pass") {
			x.shown = "pass";
			fs::remove(log, ec);
		} else {
			x.k = cell::own_failure;
			x.shown = "ERROR";
			x.notes.push_back(c.src->name() + " [properties]: the property run failed (buddycheck's own failure): " +
					  str(r, "message") + "\n    log:    " + log.string());
		}
		return x;
	}
};

// ---------------------------------------------------------------- fuzz

struct fuzz_stage : stage {
	std::vector<std::string> targets{"differential", "bulk"};
	fuzz_stage() = default;
	explicit fuzz_stage(std::string only) : targets{std::move(only)} {}
	std::string column() const override { return targets.size() == 1 ? "fuzz:" + targets[0] : "fuzz"; }

	cell run(const candidate_ctx &c) const override
	{
		const check_options &o = *c.opt;
		cell x;
		const std::string file = c.src->name();
		std::vector<std::pair<std::string, fs::path>> fuzzers;
		for (const std::string &target : targets) {
			build_result b = build_fuzzer(*c.src, target);
			if (b.status != build_result::ok) {
				x.k = cell::own_failure;
				x.shown = "ERROR";
				x.notes.push_back(file + " [fuzz]: the " + target +
						  " fuzzer does not build although the runner did (buddycheck's own failure):\n" +
						  b.output);
				return x;
			}
			fuzzers.emplace_back(target, b.binary);
		}
		// Side by side, each under the cell's limits; libFuzzer's own limits
		// (per input and memory) come first, so that it writes the input.
		supervisor sv;
		const uint64_t rss_mb = std::max<uint64_t>(512, o.cell_memory_mb);
		const int whole = std::max(1, int(std::ceil(o.fuzz_seconds)));
		for (const auto &[target, bin] : fuzzers) {
			const fs::path dir = c.out / (target + "-fuzz");
			std::error_code ec;
			fs::remove_all(dir, ec);
			fs::create_directories(dir / "corpus", ec);
			child_spec s;
			s.argv = {bin.string(), "-seed=" + std::to_string(o.seed), "-max_total_time=" + std::to_string(whole), "-max_len=4096",
				  "-timeout=10", "-rss_limit_mb=" + std::to_string(rss_mb), "-malloc_limit_mb=" + std::to_string(rss_mb),
				  "-artifact_prefix=" + (dir / "").string(), (dir / "corpus").string(),
				  (c.data / (target + "_fuzzer")).string()};
			s.env = sanitizer_env();
			s.stdout_file = dir / "fuzz.log";
			s.stderr_to_stdout = true;
			s.lim = {cell_wall(o, o.fuzz_seconds + 60), (rss_mb + 1024) << 20};
			// A fractional time: libFuzzer counts whole seconds, so it is
			// interrupted (SIGINT: it ends cleanly) when the time is up.
			s.lim.soft_stop_seconds = o.fuzz_seconds < whole ? o.fuzz_seconds : 0;
			sv.start(s);
		}
		const std::vector<child_outcome> outs = sv.wait_all();
		std::string found_by;
		for (size_t i = 0; i < fuzzers.size(); i++) {
			const auto &[target, bin] = fuzzers[i];
			const child_outcome &out = outs[i];
			const fs::path dir = c.out / (target + "-fuzz");
			fs::path artifact;
			std::error_code ec;
			for (const auto &e : fs::directory_iterator(dir, ec)) {
				const std::string n = e.path().filename().string();
				for (const char *kind : {"crash-", "timeout-", "oom-", "leak-"})
					if (n.rfind(kind, 0) == 0)
						artifact = e.path();
			}
			const std::string log = slurp(dir / "fuzz.log");
			if (artifact.empty() && (out.k == child_outcome::timeout || out.k == child_outcome::oom)) {
				found_by += std::string(found_by.empty() ? "" : "+") + target;
				x.found.push_back({out.k == child_outcome::timeout ? "TIMEOUT" : "OOM", target + "_fuzzer: the candidate " + out.describe(), "", "", ""});
				x.notes.push_back(file + " [" + target + "_fuzzer]: " + (out.k == child_outcome::timeout ? "TIMEOUT" : "OOM") +
						  ": the candidate " + out.describe() + "\n    log:    " +
						  (dir / "fuzz.log").string());
				continue;
			}
			if (artifact.empty()) {
				const bool clean = (out.k == child_outcome::exited && (out.code == 0 || (out.code == 72 && out.soft_stopped)));
				if (!clean) {
					x.k = cell::own_failure;
					x.shown = "ERROR";
					x.notes.push_back(file + " [" + target + "_fuzzer]: the fuzzer ended with " + out.describe() +
							  " and no finding (buddycheck's own failure)\n    log:    " + (dir / "fuzz.log").string());
				}
				continue;
			}
			const crash_report cr = read_crash_report(log, c.src->code_files());
			std::string what = "a crash";
			for (const char *key : {"violated:", "ERROR: AddressSanitizer:", "runtime error:", "ERROR: libFuzzer:"}) {
				auto at = log.find(key);
				if (at != std::string::npos) {
					what = log.substr(at, log.find('\n', at) - at);
					break;
				}
			}
			what += stack_lines(cr);
			const std::string bytes = slurp(artifact);
			decode_options dopt;
			dopt.target = std::string(target) == "bulk" ? decode_target::bulk : decode_target::differential;
			const fs::path tr = c.out / (target + "_fuzzer.trace");
			std::ofstream(tr) << "# " << target << "_fuzzer finding in " << file << ": " << what.substr(0, what.find('\n')) << "\n"
					  << decode_trace(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), dopt);
			found_by += std::string(found_by.empty() ? "" : "+") + target;
			{
				// "violated: INVARIANT: message" (the model), else the sanitizer's words.
				std::string head = what.substr(0, what.find('\n')), rule = "crash";
				if (head.rfind("violated:", 0) == 0) {
					head = head.substr(head.find_first_not_of(' ', 9));
					rule = head.substr(0, head.find(':'));
				} else if (head.find("AddressSanitizer") != std::string::npos) {
					rule = "AddressSanitizer";
				} else if (head.find("runtime error:") != std::string::npos) {
					rule = "UBSan";
				} else if (head.find("libFuzzer") != std::string::npos) {
					rule = "libFuzzer";
				}
				x.found.push_back({rule, head, cr.frame.substr(0, cr.frame.find(' ')), tr.string(),
						   shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(), tr.string()})});
			}
			x.notes.push_back(file + " [" + target + "_fuzzer]: " + what + "\n    input:  " + artifact.string() + "\n    trace:  " +
					  tr.string() + "\n    replay: " + shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(), tr.string()}));
		}
		if (x.k == cell::own_failure)
			return x;
		x.k = found_by.empty() ? cell::pass : cell::finding;
		x.part = found_by;
		x.shown = found_by.empty() ? "clean" : "FOUND";
		x.expect = found_by.empty() ? "clean" : "found";
		return x;
	}
};

} // namespace

std::vector<std::unique_ptr<stage>> check_stages(const check_options &opt)
{
	std::vector<std::unique_ptr<stage>> v;
	for (memmap_model mm : all_memmaps)
		v.push_back(std::make_unique<suite_stage>(memmap_name(mm)));
	if (opt.property_seconds > 0)
		v.push_back(std::make_unique<properties_stage>());
	if (opt.fuzz_seconds > 0)
		v.push_back(std::make_unique<fuzz_stage>());
	if (!opt.no_proofs)
		v.push_back(make_proofs_stage());
	return v;
}

std::vector<std::unique_ptr<stage>> separate_stages(const check_options &opt)
{
	std::vector<std::unique_ptr<stage>> v;
	for (const char *part : {"golden", "campaign"})
		for (memmap_model mm : all_memmaps)
			v.push_back(std::make_unique<suite_stage>(memmap_name(mm), part));
	if (opt.property_seconds > 0)
		v.push_back(std::make_unique<properties_stage>());
	if (opt.fuzz_seconds > 0)
		for (const char *target : {"differential", "bulk"})
			v.push_back(std::make_unique<fuzz_stage>(target));
	return v;
}

crash_report read_crash_report(const std::string &log, const std::vector<source_file> &files)
{
	crash_report r;
	// "... PATH:LINE..." where PATH is one of FILES: the shown name and the
	// offset of LINE, or npos.
	auto locate = [&](const std::string &line, size_t from, size_t before, std::string &shown) {
		for (const auto &f : files)
			for (size_t at = line.find(f.path + ":", from); at != std::string::npos && at < before;
			     at = line.find(f.path + ":", at + 1)) {
				const bool whole = at == 0 || line[at - 1] == ' ';
				const bool tail = at > 0 && line[at - 1] == '/' && f.path.front() != '/';
				if (whole || tail) {
					shown = f.shown;
					return at + f.path.size() + 1;
				}
			}
		return std::string::npos;
	};
	std::istringstream in(log);
	for (std::string line; std::getline(in, line);) {
		if (r.headline.empty()) {
			size_t p;
			if ((p = line.find("runtime error: ")) != std::string::npos) {
				r.headline = "UBSan: " + line.substr(p + 15);
				// "FILE:LINE:COL: runtime error: ..." in the candidate: that is the frame.
				std::string shown;
				if (const size_t l = locate(line, 0, p, shown); l != std::string::npos)
					r.frame = shown + ":" + line.substr(l, line.find(':', l) - l);
			} else if ((p = line.find("ERROR: AddressSanitizer: ")) != std::string::npos) {
				std::string h = line.substr(p + 25);
				h = h.substr(0, h.find(" on address"));
				h = h.substr(0, h.find(" on unknown address"));
				r.headline = "AddressSanitizer: " + h;
			} else if ((p = line.find("ERROR: libFuzzer: ")) != std::string::npos) {
				r.headline = "libFuzzer: " + line.substr(p + 18);
			}
		}
		// "    #3 0x4f00 in func /path/file.c:12:5"
		const size_t hash = line.find_first_not_of(' ');
		if (hash != std::string::npos && line[hash] == '#') {
			const size_t in_ = line.find(" in ");
			std::string shown;
			const size_t l = in_ == std::string::npos ? std::string::npos : locate(line, in_ + 4, line.size(), shown);
			if (l != std::string::npos && r.stack.size() < 8) {
				std::string fn = line.substr(in_ + 4);
				fn = fn.substr(0, fn.find(' '));
				const std::string f = shown + ":" + line.substr(l, line.find(':', l) - l) + " in " + fn;
				if (!r.stack.empty() && r.stack.back().rfind(f, 0) == 0) {
					// Recursion: one line, counted.
					const size_t x = r.stack.back().find(" (x");
					const int n = x == std::string::npos ? 1 : std::atoi(r.stack.back().c_str() + x + 3);
					r.stack.back() = f + " (x" + std::to_string(n + 1) + ")";
				} else {
					r.stack.push_back(f);
				}
			}
		}
	}
	if (r.frame.empty() && !r.stack.empty())
		r.frame = r.stack.front();
	return r;
}

std::vector<std::pair<std::string, std::string>> sanitizer_env(bool symbolize)
{
	std::vector<std::pair<std::string, std::string>> env = {
		{"ASAN_OPTIONS", std::string("detect_leaks=0:abort_on_error=0:handle_abort=1:symbolize=") + (symbolize ? "1" : "0")},
		{"UBSAN_OPTIONS", std::string("print_stacktrace=1:halt_on_error=1:symbolize=") + (symbolize ? "1" : "0")},
	};
	std::error_code ec;
	for (const char *p : {"/usr/lib/llvm-14/bin/llvm-symbolizer", "/usr/bin/llvm-symbolizer-14", "/usr/bin/llvm-symbolizer"})
		if (fs::exists(p, ec)) {
			env.push_back({"ASAN_SYMBOLIZER_PATH", p});
			break;
		}
	return env;
}

} // namespace bc::cli
