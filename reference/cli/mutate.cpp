#include "mutate.hpp"

#include "buddycheck/files.hpp"
#include "buddycheck/mutate.hpp"

#include "cache.hpp"
#include "candidate.hpp"
#include "check.hpp"
#include "process.hpp"
#include "recipe.hpp"
#include "stages.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

// The classes of a judged mutant, in the table's order.
const std::vector<std::string> &class_names()
{
	static const std::vector<std::string> n = {"killed", "not-batched", "timeout/oom", "stillborn", "survived", "error"};
	return n;
}

struct verdict {
	std::string cls;       // one of class_names()
	std::string stage;     // the column that killed it (or timed out)
	std::string part;      // what in that column: golden/flat, campaign/sparse, fuzz:bulk, properties
	std::string shown;     // that cell as check's table shows it
	std::string invariant; // the invariant, obligation or report the finding names
	std::string finding;   // the cell's first note line
	double seconds = 0;
	std::vector<std::pair<std::string, double>> columns; // each column run: its seconds
	std::vector<std::string> found_by;                   // --every-stage: every stage that finds it, in order
};

// The stage a cell's finding belongs to: a memory model's column split into
// its golden traces and its campaign, the fuzz column into its targets.
std::string stage_of(const std::string &column, const cell &c)
{
	if (c.part.empty())
		return column;
	if (column == "fuzz")
		return "fuzz:" + c.part;
	if (column.find('/') != std::string::npos || column.rfind("fuzz:", 0) == 0)
		return column; // already one part (--every-stage)
	return c.part + "/" + column;
}

// The invariant or report a finding names, from the cell's first note:
// "file.c [column]: INVARIANT: message" (the suites, the property), or
// "file.c [target_fuzzer]: violated: INVARIANT ..." / a sanitizer's line.
std::string named_invariant(const std::string &note)
{
	std::string line = note.substr(0, note.find('\n'));
	const size_t at = line.find("]: ");
	if (at != std::string::npos)
		line = line.substr(at + 3);
	if (line.rfind("violated:", 0) == 0) {
		std::istringstream in(line.substr(9));
		std::string w;
		in >> w;
		return w;
	}
	const size_t colon = line.find(": ");
	const std::string head = line.substr(0, colon);
	// A sanitizer's report is named by its kind: "UBSan: division by zero".
	const bool sanitizer = head == "UBSan" || head == "AddressSanitizer" || head == "libFuzzer";
	if (colon != std::string::npos && !head.empty() && head.find(' ') == std::string::npos && !sanitizer)
		return head;
	return line.substr(0, 80);
}

verdict judge(const candidate_source &src, const std::vector<std::unique_ptr<stage>> &stages, const check_options &copt,
	      const fs::path &out, const toolchain &t, bool every = false)
{
	verdict v;
	const double t0 = now_seconds();
	auto done = [&](std::string cls) {
		v.cls = std::move(cls);
		v.seconds = now_seconds() - t0;
		return v;
	};
	const build_result b = build_candidate(src, "runner");
	if (b.status == build_result::compile_error) {
		v.finding = b.output.substr(0, b.output.find('\n'));
		return done("stillborn");
	}
	if (b.status != build_result::ok) {
		v.finding = b.output.substr(0, b.output.find('\n'));
		return done("error");
	}
	candidate_ctx ctx;
	ctx.src = &src;
	ctx.runner = b.binary;
	ctx.out = out;
	ctx.opt = &copt;
	ctx.corpus = t.data_dir / "corpus" / "traces";
	ctx.data = t.data_dir / "corpus";
	ctx.self = self_path();
	bool not_batched = false;
	std::string first; // --every-stage: the class of the first finding
	double first_at = 0;
	// Check's columns, in their order (the count-bounded suites first, the
	// clock-bounded fuzzers last), up to the first finding (--every-stage:
	// all of them, the first finding kept).
	for (const auto &s : stages) {
		const double c0 = now_seconds();
		const cell c = s->run(ctx);
		v.columns.emplace_back(s->column(), now_seconds() - c0);
		if (c.k == cell::own_failure) {
			v.stage = s->column();
			v.shown = c.shown;
			v.finding = c.notes.empty() ? "" : c.notes.front().substr(0, c.notes.front().find('\n'));
			return done("error");
		}
		if (c.k == cell::finding)
			v.found_by.push_back(stage_of(s->column(), c));
		if (c.k == cell::finding && first.empty()) {
			v.stage = s->column();
			v.part = stage_of(s->column(), c);
			v.shown = c.shown;
			if (!c.notes.empty()) {
				v.finding = c.notes.front().substr(0, c.notes.front().find('\n'));
				v.invariant = named_invariant(c.notes.front());
			}
			first = c.shown == "TIMEOUT" || c.shown == "OOM" ? "timeout/oom" : "killed";
			first_at = now_seconds() - t0;
			// A runaway stops here even with --every-stage: each later
			// stage would spend its whole cell's limit on it too.
			if (!every || first == "timeout/oom")
				return done(first);
		}
		not_batched |= c.shown == "not-batched";
	}
	if (!first.empty()) {
		v.cls = first;
		v.seconds = first_at; // the time to kill, as without --every-stage
		return v;
	}
	return done(not_batched ? "not-batched" : "survived");
}

// The headers SRC includes with "..." that lie beside it (below its
// directory): a mutant written elsewhere needs them beside it too.
std::vector<fs::path> local_includes(const candidate_source &src)
{
	std::vector<fs::path> v;
	std::istringstream in(src.text);
	for (std::string line; std::getline(in, line);) {
		const size_t hash = line.find_first_not_of(" \t");
		if (hash == std::string::npos || line[hash] != '#' || line.find("include", hash) == std::string::npos)
			continue;
		const size_t q = line.find('"'), r = q == std::string::npos ? q : line.find('"', q + 1);
		if (r == std::string::npos)
			continue;
		const fs::path h = fs::path(line.substr(q + 1, r - q - 1)).lexically_normal();
		std::error_code ec;
		if (h.is_relative() && !h.empty() && *h.begin() != ".." && fs::is_regular_file(src.file.parent_path() / h, ec))
			v.push_back(h);
	}
	return v;
}

// The kind of check a finding came from, for the kill matrix: the chunk
// contracts (order cap, alignment, inside the section and the range), the
// differential check against the oracle, an expectation a golden trace
// writes, a sanitizer or crash, the runaway guard, or one of the model's
// invariants and the kernel's own checks (pfn_valid, a BUG, a double free).
std::string check_kind(const verdict &v)
{
	if (v.cls == "timeout/oom")
		return "runaway";
	const std::string &i = v.invariant;
	if (i.rfind("chunk_", 0) == 0)
		return "contract";
	if (i == "differential")
		return "differential";
	if (i == "expectation")
		return "expectation";
	if (v.shown.rfind("CRASH", 0) == 0 || i.find("Sanitizer") != std::string::npos || i.rfind("UBSan", 0) == 0 ||
	    i.rfind("libFuzzer", 0) == 0)
		return "sanitizer";
	return "invariant";
}
const std::vector<std::string> check_kinds = {"contract", "differential", "invariant", "expectation", "sanitizer", "runaway"};

size_t matrix_count(const std::map<std::string, std::map<std::string, size_t>> &m, const std::string &cls)
{
	size_t n = 0;
	for (const auto &[op, row] : m)
		if (auto it = row.find(cls); it != row.end())
			n += it->second;
	return n;
}

std::string padded(const std::string &s, size_t w) { return s + std::string(s.size() < w ? w - s.size() : 1, ' '); }

std::string one_decimal(double x)
{
	char b[32];
	std::snprintf(b, sizeof b, "%.1f", x);
	return b;
}

} // namespace

int run_mutate(const mutate_options &mo)
{
	const toolchain &t = load_toolchain();
	const std::string arg = mo.file.empty() ? (t.data_dir / "reference" / "candidates" / "reference.c").string() : mo.file;
	const candidate_source src = inspect_candidate(arg);
	if (!src.ok()) {
		std::fprintf(stderr, "buddycheck: %s\n", src.error.c_str());
		return exit_bad_input;
	}
	mutate::generate_options g;
	g.entry_points = entry_point_names();
	g.include_dirs = t.includes;
	for (const auto &d : src.defined)
		g.extra_args.push_back("-DBC_CANDIDATE_DEFINES_" + d.name + "=1");
	const mutate::generate_result gen = mutate::generate_mutants(src.file, src.text, g);
	if (!gen.ok()) {
		std::fprintf(stderr, "buddycheck: %s\n", gen.error.c_str());
		return exit_bad_input;
	}
	if (gen.mutants.empty()) {
		std::string why = gen.diagnostics.empty()
					  ? ""
					  : "; clang: " + gen.diagnostics.front().substr(0, gen.diagnostics.front().find('\n'));
		std::fprintf(stderr, "buddycheck: %s: no mutation site in the family's functions (%zu found)%s\n", arg.c_str(),
			     gen.functions.size(), why.c_str());
		return exit_bad_input;
	}
	// The committed equivalent mutants, by key.
	const fs::path eq_file =
		mo.equivalents.empty() ? t.data_dir / "reference" / "mutate" / "equivalents.txt" : fs::path(mo.equivalents);
	const mutate::equivalents_file eq = mutate::load_equivalents(eq_file);
	if (!eq.error.empty()) {
		std::fprintf(stderr, "buddycheck: %s\n", eq.error.c_str());
		return mo.equivalents.empty() ? exit_own_failure : exit_bad_input;
	}
	std::map<std::string, std::string> equivalent;
	for (const auto &e : eq.entries)
		equivalent[e.key] = e.reason;

	// Which mutants: --only (operators or ids), then --sample.
	std::vector<size_t> chosen;
	for (size_t i = 0; i < gen.mutants.size(); i++) {
		const auto &m = gen.mutants[i];
		if (mo.only.empty() ||
		    std::any_of(mo.only.begin(), mo.only.end(), [&](const std::string &o) { return o == m.op || o == m.id; }))
			chosen.push_back(i);
	}
	for (const auto &o : mo.only) {
		const auto &ops = mutate::operator_names();
		if (std::find(ops.begin(), ops.end(), o) == ops.end() &&
		    std::none_of(gen.mutants.begin(), gen.mutants.end(), [&](const mutate::mutant &m) { return m.id == o; })) {
			std::fprintf(
				stderr,
				"buddycheck: --only %s: neither an operator (ROR LCR NEG CRP AOR MMS SDL ARS) nor a mutant of %s "
				"(see 'buddycheck mutate --list')\n",
				o.c_str(), src.file.filename().string().c_str());
			return exit_bad_input;
		}
	}
	if (mo.sample) {
		std::vector<mutate::mutant> pool;
		for (size_t i : chosen)
			pool.push_back(gen.mutants[i]);
		std::vector<size_t> picked;
		for (size_t j : mutate::sample(pool, mo.sample, mo.seed))
			picked.push_back(chosen[j]);
		chosen = picked;
	}
	const std::string file = src.file.filename().string();
	if (mo.list) {
		for (size_t i : chosen) {
			const auto &m = gen.mutants[i];
			auto it = equivalent.find(m.key);
			std::printf("%-8s %-28s %s:%d:%d: `%s` -> `%s`%s\n", m.id.c_str(), m.function.c_str(), file.c_str(),
				    m.line, m.column, m.original.c_str(), m.mutated.c_str(),
				    it == equivalent.end() ? "" : "  (equivalent)");
		}
		return exit_pass;
	}

	// The run's directory, as check's.
	check_options copt;
	copt.seconds = mo.seconds;
	copt.fuzz_seconds = mo.fuzz_seconds;
	copt.property_seconds = mo.property_seconds;
	copt.seed = mo.seed;
	copt.out = mo.out;
	copt.cell_seconds = mo.timeout;
	copt.no_proofs = true;
	const fs::path run = run_directory(copt);
	for (const auto &[dir, room, what] : {std::tuple{run, uint64_t(256) << 20, "output directory"},
					      std::tuple{cache_dir(), uint64_t(512) << 20, "build cache"}})
		if (std::string e = writable_with_room(dir, room, what); !e.empty()) {
			std::fprintf(stderr, "buddycheck: %s\n", e.c_str());
			return exit_bad_input;
		}
	if (!mo.json.empty()) {
		std::ofstream f(mo.json, std::ios::app);
		if (!f) {
			std::fprintf(stderr, "buddycheck: cannot write --json %s\n", mo.json.c_str());
			return exit_bad_input;
		}
	}
	if (mo.out.empty())
		point_latest(run);
	const auto stages = mo.every_stage ? separate_stages(copt) : check_stages(copt);

	// The original first: it must compile and pass every stage, or no
	// mutant's verdict means anything (and its builds prime the caches
	// before the threads start).
	const double start = now_seconds();
	const unsigned jobs = std::max(1u, std::min<unsigned>(mo.jobs, unsigned(chosen.size())));
	std::fprintf(stderr,
		     "mutate: %s: %zu mutants generated in %zu functions; judging %zu with %u jobs (the original first)\n",
		     file.c_str(), gen.mutants.size(), gen.functions.size(), chosen.size(), jobs);
	{
		std::error_code ec;
		fs::create_directories(run / "original", ec);
		const verdict base = judge(src, stages, copt, run / "original", t);
		if (base.cls == "stillborn") {
			const build_result b = build_candidate(src, "runner");
			return report_build_failure(b, arg);
		}
		if (base.cls == "error") {
			std::fprintf(stderr, "buddycheck: judging the original %s failed (buddycheck's own failure): %s\n",
				     file.c_str(), base.finding.c_str());
			return exit_own_failure;
		}
		if (base.cls != "survived" && base.cls != "not-batched") {
			std::fprintf(
				stderr,
				"buddycheck: the original %s already fails [%s] %s: %s; a mutation score needs an original that passes "
				"(buddycheck check %s)\n",
				file.c_str(), base.stage.c_str(), base.shown.c_str(), base.finding.c_str(),
				src.file.string().c_str());
			return exit_bad_input;
		}
		std::string each;
		for (const auto &[col, sec] : base.columns)
			each += (each.empty() ? "" : ", ") + col + " " + one_decimal(sec) + " s";
		std::fprintf(stderr, "mutate: the original passes every column (%s s: %s)\n", one_decimal(base.seconds).c_str(),
			     each.c_str());
	}

	// The mutants, --jobs at a time: each one's stages run children under
	// their limits, so threads suffice.
	std::vector<verdict> results(chosen.size());
	std::atomic<size_t> next = 0;
	std::mutex mu;
	size_t finished = 0;
	std::map<std::string, size_t> counts;
	bool own_failure = false;
	auto worker = [&] {
		for (size_t k; (k = next++) < chosen.size();) {
			const auto &m = gen.mutants[chosen[k]];
			const fs::path dir = run / "mutants" / m.id;
			std::error_code ec;
			fs::create_directories(dir, ec);
			const fs::path path = dir / file;
			std::ofstream(path, std::ios::binary) << mutate::apply(src.text, m);
			// The headers it includes from beside the original, beside it too.
			for (const auto &h : local_includes(src)) {
				fs::create_directories((dir / h).parent_path(), ec);
				fs::copy_file(src.file.parent_path() / h, dir / h, fs::copy_options::overwrite_existing, ec);
			}
			verdict v;
			candidate_source ms = inspect_candidate(path.string());
			if (!ms.ok()) {
				v.cls = "stillborn";
				v.finding = ms.error;
			} else {
				v = judge(ms, stages, copt, dir, t, mo.every_stage);
			}
			// A mutant's builds serve no later run; its fuzzers' corpora neither.
			const std::string mark = "\nsource " + path.string() + " ";
			cache_forget([&](const std::string &stamp) { return stamp.find(mark) != std::string::npos; });
			for (const char *target : {"differential-fuzz", "bulk-fuzz"})
				fs::remove_all(dir / target / "corpus", ec);
			std::lock_guard<std::mutex> lock(mu);
			results[k] = v;
			counts[v.cls]++;
			own_failure |= v.cls == "error";
			finished++;
			std::fprintf(stderr,
				     "mutate: [%zu/%zu] %-8s %-11s %s%s  (%s s; %zu killed, %zu survived, %s s elapsed)\n",
				     finished, chosen.size(), m.id.c_str(), v.cls.c_str(),
				     v.part.empty() ? "" : ("[" + v.part + "] ").c_str(), v.invariant.c_str(),
				     one_decimal(v.seconds).c_str(), counts["killed"], counts["survived"],
				     one_decimal(now_seconds() - start).c_str());
		}
	};
	{
		std::vector<std::thread> pool;
		for (unsigned j = 0; j < jobs; j++)
			pool.emplace_back(worker);
		for (auto &th : pool)
			th.join();
	}
	const double wall = now_seconds() - start;

	// The kill matrix: operators x classes.
	const auto &classes = class_names();
	std::map<std::string, std::map<std::string, size_t>> matrix;
	std::map<std::string, std::map<std::string, size_t>> by_stage; // first stage x check kind
	std::map<std::string, size_t> alone, only;                     // --every-stage
	std::vector<double> kill_seconds;
	size_t n_equivalent = 0, n_stillborn = 0, n_killed = 0, n_timeout = 0;
	std::vector<std::string> wrong_equivalents;
	for (size_t k = 0; k < chosen.size(); k++) {
		const auto &m = gen.mutants[chosen[k]];
		const verdict &v = results[k];
		const bool eqv = equivalent.count(m.key) > 0;
		if (eqv) {
			matrix[m.op]["equivalent"]++;
			n_equivalent++;
			if (v.cls == "killed" || v.cls == "timeout/oom")
				wrong_equivalents.push_back(m.id);
			continue;
		}
		matrix[m.op][v.cls]++;
		n_stillborn += v.cls == "stillborn";
		n_killed += v.cls == "killed";
		n_timeout += v.cls == "timeout/oom";
		if (v.cls == "killed")
			kill_seconds.push_back(v.seconds);
		if (v.cls == "killed" || v.cls == "timeout/oom")
			by_stage[v.part][check_kind(v)]++;
		for (const auto &st : v.found_by) {
			alone[st]++;
			only[st] += v.found_by.size() == 1;
		}
	}
	std::vector<std::string> columns = classes;
	columns.push_back("equivalent");
	std::string head = padded("operator", 10);
	for (const auto &c : columns)
		head += padded(c, 13);
	std::printf("%stotal\n", head.c_str());
	std::map<std::string, size_t> col_total;
	for (const auto &op : mutate::operator_names()) {
		if (!matrix.count(op))
			continue;
		std::string row = padded(op, 10);
		size_t total = 0;
		for (const auto &c : columns) {
			const size_t n = matrix[op][c];
			row += padded(std::to_string(n), 13);
			total += n;
			col_total[c] += n;
		}
		std::printf("%s%zu\n", row.c_str(), total);
	}
	std::string row = padded("all", 10);
	for (const auto &c : columns)
		row += padded(std::to_string(col_total[c]), 13);
	std::printf("%s%zu\n", row.c_str(), chosen.size());
	// Which stage found each mutant first, and with which kind of check.
	std::vector<std::string> stage_rows;
	for (const auto &s : stages) {
		const std::string col = s->column();
		if (col == "fuzz")
			for (const char *t : {"fuzz:differential", "fuzz:bulk", "fuzz:differential+bulk"})
				stage_rows.push_back(t);
		else if (col.find('/') == std::string::npos && col != "properties" && col.rfind("fuzz:", 0) != 0)
			for (const char *part : {"golden/", "campaign/"})
				stage_rows.push_back(part + col);
		else
			stage_rows.push_back(col);
	}
	std::printf("\nfound first by stage (the check that found it):\n%s", padded("stage", 24).c_str());
	for (const auto &k : check_kinds)
		std::printf("%s", padded(k, 13).c_str());
	std::printf("total\n");
	for (const auto &[st, row] : by_stage) // a stage the rows above do not name (none expected)
		if (std::find(stage_rows.begin(), stage_rows.end(), st) == stage_rows.end())
			stage_rows.push_back(st);
	for (const auto &st : stage_rows) {
		if (!by_stage.count(st))
			continue;
		size_t total = 0;
		std::printf("%s", padded(st, 24).c_str());
		for (const auto &k : check_kinds) {
			std::printf("%s", padded(std::to_string(by_stage[st][k]), 13).c_str());
			total += by_stage[st][k];
		}
		std::printf("%zu\n", total);
	}
	if (mo.every_stage) {
		std::printf("\neach stage alone (--every-stage: found by it, found by it and no other stage):\n");
		for (const auto &s : stages)
			std::printf("  %s%4zu found, %4zu only by it\n", padded(s->column(), 26).c_str(), alone[s->column()],
				    only[s->column()]);
	}
	const size_t denominator = chosen.size() - n_stillborn - n_equivalent;
	const size_t n_not_batched = matrix_count(matrix, "not-batched");
	std::sort(kill_seconds.begin(), kill_seconds.end());
	const double median = kill_seconds.empty() ? 0
			      : kill_seconds.size() % 2
				      ? kill_seconds[kill_seconds.size() / 2]
				      : (kill_seconds[kill_seconds.size() / 2 - 1] + kill_seconds[kill_seconds.size() / 2]) / 2;
	auto pct = [&](size_t n) {
		return denominator ? one_decimal(100.0 * double(n) / double(denominator)) + "%" : std::string("n/a");
	};
	// Found: a counterexample, the efficiency verdict (correct but more
	// chunks than the minimal decomposition) or the runaway guard; each
	// is also shown alone.
	const size_t n_found = n_killed + n_not_batched + n_timeout;
	std::printf("\nscore: %s (%zu found: %zu killed + %zu not-batched + %zu timeout/oom, / (%zu judged - %zu stillborn - "
		    "%zu equivalent)); counterexamples alone: %s\n",
		    pct(n_found).c_str(), n_found, n_killed, n_not_batched, n_timeout, chosen.size(), n_stillborn, n_equivalent,
		    pct(n_killed).c_str());
	std::printf("median time to kill: %s s; wall time %s s, %u jobs%s\n", one_decimal(median).c_str(),
		    one_decimal(wall).c_str(), jobs,
		    mo.sample ? (", a sample of " + std::to_string(chosen.size()) + " of " + std::to_string(gen.mutants.size()) +
				 " (seed " + std::to_string(mo.seed) + ")")
					.c_str()
			      : "");
	auto list = [&](const char *title, const std::function<bool(const mutate::mutant &, const verdict &)> &pred) {
		bool any = false;
		for (size_t k = 0; k < chosen.size(); k++) {
			const auto &m = gen.mutants[chosen[k]];
			if (!pred(m, results[k]))
				continue;
			if (!any)
				std::printf("\n%s:\n", title);
			any = true;
			std::printf("  %-8s %s:%d:%d in %s\n      - %s\n      + %s\n", m.id.c_str(), file.c_str(), m.line,
				    m.column, m.function.c_str(), m.original.c_str(), m.mutated.c_str());
			if (auto it = equivalent.find(m.key); it != equivalent.end())
				std::printf("      equivalent: %s\n", it->second.c_str());
		}
	};
	list("survived",
	     [&](const mutate::mutant &m, const verdict &v) { return v.cls == "survived" && !equivalent.count(m.key); });
	list("not-batched",
	     [&](const mutate::mutant &m, const verdict &v) { return v.cls == "not-batched" && !equivalent.count(m.key); });
	list("equivalent (excluded from the score)",
	     [&](const mutate::mutant &m, const verdict &) { return equivalent.count(m.key) > 0; });
	list("error (buddycheck's own failure)", [&](const mutate::mutant &, const verdict &v) { return v.cls == "error"; });
	for (const auto &id : wrong_equivalents)
		std::printf("\nwarning: %s is listed as equivalent in %s but was killed: the list is wrong\n", id.c_str(),
			    eq_file.string().c_str());
	std::printf("\noutputs in %s/\n", run.string().c_str());

	nlohmann::json j;
	j["file"] = src.file.string();
	j["seed"] = mo.seed;
	j["generated"] = gen.mutants.size();
	j["judged"] = chosen.size();
	j["functions"] = gen.functions;
	j["stages"] = nlohmann::json::array();
	for (const auto &s : stages)
		j["stages"].push_back(s->column());
	j["killed"] = n_killed;
	j["timeout_oom"] = n_timeout;
	j["stillborn"] = n_stillborn;
	j["equivalent"] = n_equivalent;
	j["not_batched"] = n_not_batched;
	j["score"] = denominator ? double(n_found) / double(denominator) : 0.0;
	j["score_counterexamples"] = denominator ? double(n_killed) / double(denominator) : 0.0;
	j["every_stage"] = mo.every_stage;
	j["median_seconds_to_kill"] = median;
	j["wall_seconds"] = wall;
	j["mutants"] = nlohmann::json::array();
	for (size_t k = 0; k < chosen.size(); k++) {
		const auto &m = gen.mutants[chosen[k]];
		const verdict &v = results[k];
		nlohmann::json x;
		x["id"] = m.id;
		x["key"] = m.key;
		x["site"] = file + ":" + std::to_string(m.line) + ":" + std::to_string(m.column);
		x["operator"] = m.op;
		x["function"] = m.function;
		x["line"] = m.line;
		x["column"] = m.column;
		x["diff"] = {{"-", m.original}, {"+", m.mutated}};
		x["class"] = equivalent.count(m.key) ? "equivalent" : v.cls;
		x["verdict"] = v.cls;
		x["stage"] = v.part;
		x["column"] = v.stage;
		x["check"] = v.cls == "killed" || v.cls == "timeout/oom" ? check_kind(v) : "";
		if (mo.every_stage)
			x["found_by"] = v.found_by;
		x["cell"] = v.shown;
		x["invariant"] = v.invariant;
		x["finding"] = v.finding;
		x["seconds"] = v.seconds;
		if (auto it = equivalent.find(m.key); it != equivalent.end())
			x["equivalent_reason"] = it->second;
		j["mutants"].push_back(x);
	}
	std::ofstream(run / "mutate.json") << j.dump(1) << "\n";
	if (!mo.json.empty()) {
		std::ofstream f(mo.json);
		f << j.dump(1) << "\n";
		f.close();
		if (!f) {
			std::fprintf(stderr, "buddycheck: cannot write %s\n", mo.json.c_str());
			return exit_bad_input;
		}
	}
	if (own_failure) {
		std::fprintf(
			stderr,
			"buddycheck: some mutants have no verdict because buddycheck itself failed (class error); exit status 3\n");
		return exit_own_failure;
	}
	// The CI gate: a score below the bar, or an equivalent that was killed
	// (a stale list hides a real survivor), fails the run.
	if (mo.fail_under >= 0) {
		const double score = denominator ? 100.0 * double(n_found) / double(denominator) : 0.0;
		if (score < mo.fail_under || !wrong_equivalents.empty()) {
			std::fprintf(stderr, "buddycheck: --fail-under %s: %s%s\n", one_decimal(mo.fail_under).c_str(),
				     score < mo.fail_under ? ("score " + one_decimal(score) + "% is below it").c_str()
							   : "the score is met",
				     wrong_equivalents.empty() ? "" : ", but a mutant listed as equivalent was killed");
			return exit_finding;
		}
	}
	return exit_pass;
}

void add_mutate_command(CLI::App &app, mutate_options &opt)
{
	CLI::App *c = app.add_subcommand(
		"mutate",
		"A mutation score for the checkers: every mutant of the family's functions in a candidate (default: the "
		"built-in reference) judged as 'check' judges, up to the first column that kills it; prints the kill "
		"matrix and the score");
	c->add_option("FILE.c", opt.file,
		      "the candidate to mutate (default: the built-in reference; or a built-in candidate's name)");
	c->add_option("--jobs", opt.jobs, "mutants judged at once (default: the core count)")->check(CLI::Range(1u, 256u));
	c->add_option("--sample", opt.sample, "judge N mutants picked from the seed, spread over the operators (0: all)")
		->check(CLI::Range(size_t(0), size_t(1) << 32))
		->capture_default_str();
	c->add_option("--seed", opt.seed, "seed of the sample and of check's campaign, property and fuzzers")
		->capture_default_str();
	c->add_option("--json", opt.json,
		      "also write the results as JSON to this file (always: mutate.json in the run's directory)");
	c->add_option("--timeout", opt.timeout,
		      "wall-clock limit of each column's cell of a mutant, seconds (check's --cell-seconds)")
		->check(CLI::Range(1.0, 86400.0))
		->capture_default_str();
	c->add_option("--only", opt.only, "only these operators (ROR,LCR,NEG,CRP,AOR,MMS,SDL,ARS) or mutant ids (ROR-3)")
		->delimiter(',');
	c->add_flag("--list", opt.list, "print the mutants (one a line) without judging them");
	c->add_flag("--every-stage", opt.every_stage,
		    "judge every mutant by every stage alone (each memory model's golden traces and campaign, the property, "
		    "each fuzz target), not up to the first finding: what each stage's time buys");
	c->add_option("--seconds", opt.seconds, "check's randomized campaign per memory model")
		->check(CLI::Range(0.0, 86400.0))
		->capture_default_str();
	c->add_option("--fuzz-seconds", opt.fuzz_seconds, "check's libFuzzer targets (0: no fuzz column)")
		->check(CLI::Range(0.0, 86400.0))
		->capture_default_str();
	c->add_option("--property-seconds", opt.property_seconds, "check's stateful property (0: no properties column)")
		->check(CLI::Range(0.0, 86400.0))
		->capture_default_str();
	c->add_option("--out", opt.out,
		      "this run's output directory (default: buddycheck-out/<time>-<pid>, and buddycheck-out/latest)");
	c->add_option("--fail-under", opt.fail_under,
		      "exit 1 when the score (percent) is below this, or when a mutant listed as equivalent is killed "
		      "(a CI gate; default: never)")
		->check(CLI::Range(0.0, 100.0));
	c->add_option("--equivalents", opt.equivalents,
		      "the list of equivalent mutants (default: reference/mutate/equivalents.txt)");
	opt.jobs = std::max(1u, std::thread::hardware_concurrency());
}

} // namespace bc::cli
