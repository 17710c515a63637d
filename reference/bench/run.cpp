// The body of buddycheck-bench (run as `buddycheck bench`): the seeds'
// experiments on the model, each with the per-page oracle and with the
// batched family (the reference, another engine, or a candidate C file's
// family when `buddycheck bench --candidate` built the binary), timed by
// Google Benchmark (repetitions interleaved at random, median per engine) and
// counted by the model's deterministic cost counters; one table beside the
// seeds' published ratios, and the same as JSON.
#include "scenarios.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace bc;
using namespace bc::bench;

namespace {
struct options {
	bool quick = false;
	int repetitions = 0; // 0: 5, or 3 with --quick
	std::string json, filter;
	const free_family *batched = &reference_family();
	std::string candidate; // the C file, when batched is its family
	memmap_model memmap = memmap_model::vmemmap;
};

enum { PER_PAGE, BATCHED };

// The counters the table shows, per iteration.
struct counter_def {
	const char *name;
	uint64_t cost_counters::*field;
};
const counter_def counter_defs[] = {
	{"zone_lock", &cost_counters::zone_lock},   {"pcp_lock", &cost_counters::pcp_lock},
	{"pcp_insert", &cost_counters::pcp_insert}, {"pcp_drain", &cost_counters::pcp_drain},
	{"free_one_page", &cost_counters::free_one_page}, {"merges", &cost_counters::merges},
	{"prepare", &cost_counters::prepare},
};

struct engine_result {
	std::vector<double> ns_per_iter; // one per repetition
	std::vector<cost_counters> cost; // one per repetition (must all be equal)
	uint64_t iterations = 0;
	std::string error;
	double median_ns() const
	{
		std::vector<double> v = ns_per_iter;
		if (v.empty())
			return 0;
		std::sort(v.begin(), v.end());
		const size_t n = v.size();
		return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	}
	double per_iter(uint64_t cost_counters::*f) const
	{
		return cost.empty() || !iterations ? 0 : double(cost.front().*f) / double(iterations);
	}
};

struct scenario_result {
	const scenario *s = nullptr;
	engine_result e[2];
};

std::vector<scenario_result> results;
std::map<std::string, std::pair<size_t, int>> by_bench_name; // -> (results index, engine)

bool same_counters(const cost_counters &a, const cost_counters &b)
{
	for (const auto &d : counter_defs)
		if (a.*d.field != b.*d.field)
			return false;
	return a.rmqueue == b.rmqueue && a.pcp_drained_blocks == b.pcp_drained_blocks;
}

void run_scenario(benchmark::State &st, const scenario &s, const config &cfg, const free_family *fam, engine_result &out)
{
	bench_ctx c;
	try {
		boot(c, cfg, fam);
		const long boot_free = free_pages_total(*c.m);
		for (auto _ : st) {
			if (s.free_only) {
				s.alloc(c);
				const auto t0 = std::chrono::steady_clock::now();
				s.release(c);
				const auto t1 = std::chrono::steady_clock::now();
				st.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
			} else {
				s.alloc(c);
				s.release(c);
			}
		}
		const cost_counters cost = c.m->cost; // before the final drain
		verify_returned(c, boot_free);
		out.cost.push_back(cost);
		out.iterations = uint64_t(st.iterations());
		if (!same_counters(out.cost.front(), cost))
			throw bench_error("cost counters differ between repetitions (the model is not deterministic)");
	} catch (const bench_error &ex) {
		out.error = std::string(fam->name) + ": " + ex.what();
		st.SkipWithError(out.error.c_str());
	} catch (const finding_stop &ex) { // the model stopped at its first finding (boot() sets the flag)
		out.error = std::string(fam->name) + ": finding " + ex.what();
		st.SkipWithError(out.error.c_str());
	}
}

// Collects every repetition; prints nothing (the table comes at the end).
class collector : public benchmark::BenchmarkReporter {
  public:
	bool ReportContext(const Context &) override { return true; }
	void ReportRuns(const std::vector<Run> &runs) override
	{
		for (const Run &r : runs) {
			if (r.run_type != Run::RT_Iteration || r.error_occurred || r.iterations == 0)
				continue;
			auto it = by_bench_name.find(r.run_name.function_name);
			if (it == by_bench_name.end())
				continue;
			engine_result &e = results[it->second.first].e[it->second.second];
			e.ns_per_iter.push_back(r.real_accumulated_time * 1e9 / double(r.iterations));
		}
	}
};

std::string fmt_count(double v)
{
	char b[32];
	if (v >= 100 || v == 0)
		std::snprintf(b, sizeof b, "%.0f", v);
	else if (v >= 10)
		std::snprintf(b, sizeof b, "%.1f", v);
	else
		std::snprintf(b, sizeof b, "%.2f", v);
	return b;
}

// Microseconds: three significant digits, no exponent.
std::string fmt_us(double v)
{
	char b[32];
	std::snprintf(b, sizeof b, v >= 100 ? "%.0f" : "%.3g", v);
	return b;
}

std::string fmt(const char *f, double v)
{
	char b[64];
	std::snprintf(b, sizeof b, f, v);
	return b;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

// The seed's CMA profile in counters.  Before: every prepared page is
// committed to a pcp list on its own (one pcp lock + insert per page), so
// per-page pcp work is at least the prepare work.  After: free_pages_prepare
// is the only per-page work; every other free-path event is rarer than one
// per 10 pages.
struct shape {
	double before_commits_per_prepare = 0, after_other_per_prepare = 0;
	bool before_ok = false, after_ok = false;
};
shape cma_shape(const scenario_result &r)
{
	shape sh;
	const engine_result &pp = r.e[PER_PAGE], &b = r.e[BATCHED];
	const double pp_prep = pp.per_iter(&cost_counters::prepare), b_prep = b.per_iter(&cost_counters::prepare);
	sh.before_commits_per_prepare = ratio(pp.per_iter(&cost_counters::pcp_insert), pp_prep);
	sh.after_other_per_prepare = ratio(b.per_iter(&cost_counters::pcp_insert) + b.per_iter(&cost_counters::pcp_lock) +
						   b.per_iter(&cost_counters::free_one_page) + b.per_iter(&cost_counters::zone_lock),
					   b_prep);
	sh.before_ok = pp_prep > 0 && sh.before_commits_per_prepare >= 1.0;
	sh.after_ok = b_prep > 0 && sh.after_other_per_prepare < 0.1;
	return sh;
}

std::string json_str(const std::string &s)
{
	std::string o = "\"";
	for (char ch : s) {
		if (ch == '"' || ch == '\\')
			o += '\\';
		o += ch;
	}
	return o + "\"";
}

std::string engine_json(const engine_result &e, const char *name)
{
	std::ostringstream o;
	o << "{\"engine\": " << json_str(name) << ", \"iterations\": " << e.iterations
	  << ", \"median_ns_per_iteration\": " << fmt("%.1f", e.median_ns()) << ", \"ns_per_iteration\": [";
	for (size_t i = 0; i < e.ns_per_iter.size(); i++)
		o << (i ? ", " : "") << fmt("%.1f", e.ns_per_iter[i]);
	o << "], \"counters_total\": {";
	bool first = true;
	for (const auto &d : counter_defs) {
		o << (first ? "" : ", ") << json_str(d.name) << ": " << (e.cost.empty() ? 0 : e.cost.front().*d.field);
		first = false;
	}
	o << "}, \"counters_per_iteration\": {";
	first = true;
	for (const auto &d : counter_defs) {
		o << (first ? "" : ", ") << json_str(d.name) << ": " << fmt("%.3f", e.per_iter(d.field));
		first = false;
	}
	o << "}}";
	return o.str();
}

int bad_usage(const std::string &msg)
{
	std::fprintf(stderr, "buddycheck bench: %s (see 'buddycheck bench --help')\n", msg.c_str());
	return 2;
}

} // namespace

int bc::bench::bench_main(int argc, char **argv, const free_family *candidate)
{
	options opt;
	if (candidate)
		opt.batched = candidate;
	// CLI11, as every subcommand of buddycheck: one line and exit 2 on a bad option.
	CLI::App app{"buddycheck bench: the seeds' experiments on the model (Google Benchmark)"};
	app.name("buddycheck bench");
	app.footer("exit status: 0 table printed, 1 a scenario failed (leak, finding, allocation failure), 2 bad input");
	std::string engine, memmap;
	app.add_flag("--quick", opt.quick, "3 repetitions, short runs (a few seconds)");
	app.add_option("--repetitions", opt.repetitions, "interleaved repetitions (default 5, --quick 3)")->check(CLI::Range(1, 100));
	app.add_option("--json", opt.json, "also write the results as JSON to this file");
	app.add_option("--filter", opt.filter, "only the scenarios whose name contains this text");
	auto *eng = app.add_option(
		"--engine", engine,
		"the batched engine: reference (default), naive (alias oracle: the per-page oracle against itself, the control run) or a negative control ('buddycheck engines')");
	// The binary of a candidate is built by `buddycheck bench --candidate`,
	// which passes the file on for the table.
	auto *cand = app.add_option("--candidate", opt.candidate, "a candidate C file (built by 'buddycheck bench --candidate FILE.c')");
	app.add_option("--memmap", memmap, "memory model")->check(CLI::IsMember({"flat", "vmemmap", "sparse", "sparse-hotplug"}));
	eng->excludes(cand);
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		std::fputs(app.help().c_str(), stdout);
		return 0;
	} catch (const CLI::ParseError &e) {
		return bad_usage(e.what());
	}
	if (!engine.empty()) {
		if (candidate)
			return bad_usage("--engine excludes --candidate");
		opt.batched = family_by_name(engine); // naive too: the control run, per-page against itself
		if (!opt.batched)
			return bad_usage("--engine takes an engine of 'buddycheck engines'");
	}
	if (!opt.candidate.empty() && !candidate)
		return bad_usage("--candidate is built and run by 'buddycheck bench --candidate FILE.c'");
	if (!memmap.empty())
		opt.memmap = *memmap_from_name(memmap);
	if (!opt.json.empty() && !std::ofstream(opt.json)) // fail now, not after the run
		return bad_usage("cannot write " + opt.json);
	if (!opt.repetitions)
		opt.repetitions = opt.quick ? 3 : 5;

	const config cfg = bench_config(opt.memmap);
	for (const scenario &s : scenarios())
		if (opt.filter.empty() || s.name.find(opt.filter) != std::string::npos)
			results.push_back({&s, {}});
	if (results.empty())
		return bad_usage("no scenario matches '" + opt.filter + "'");

	// Google Benchmark's own flags: repetitions of different benchmarks
	// interleaved in random order, so that drift of the machine hits every
	// engine alike.
	std::vector<std::string> gb_args = {argv[0], "--benchmark_enable_random_interleaving=true"};
	std::vector<char *> gb_argv;
	for (auto &s : gb_args)
		gb_argv.push_back(s.data());
	int gb_argc = int(gb_argv.size());
	benchmark::Initialize(&gb_argc, gb_argv.data());
	if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data()))
		return 2; // this Google Benchmark lacks random interleaving (it printed why)

	const free_family *fams[2] = {&oracle_family(), opt.batched};
	for (size_t i = 0; i < results.size(); i++) {
		const scenario &s = *results[i].s;
		for (int e : {PER_PAGE, BATCHED}) {
			const std::string name = s.name + (e == PER_PAGE ? " [per-page]" : " [batched]");
			by_bench_name[name] = {i, e};
			engine_result *out = &results[i].e[e];
			const free_family *fam = fams[e];
			auto *b = benchmark::RegisterBenchmark(name.c_str(), [&s, &cfg, fam, out](benchmark::State &st) {
				run_scenario(st, s, cfg, fam, *out);
			});
			b->Iterations(benchmark::IterationCount(opt.quick ? s.quick_iterations : s.iterations))
				->Repetitions(opt.repetitions)
				->Unit(benchmark::kMicrosecond);
			if (s.free_only)
				b->UseManualTime();
		}
	}
	std::fprintf(stderr, "buddycheck bench: %zu scenarios x 2 engines x %d repetitions (interleaved)%s\n",
		     results.size(), opt.repetitions, opt.quick ? ", quick" : "");
	const auto t_start = std::chrono::steady_clock::now();
	collector rep;
	benchmark::RunSpecifiedBenchmarks(&rep);
	benchmark::Shutdown();
	const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

	// ---- the table
	// A candidate's columns carry its name (the file's stem) up to 12
	// characters, widened to fit; the line above them names the file.
	std::string col = opt.candidate.empty() ? "batched" : std::filesystem::path(opt.candidate).stem().string();
	if (col.size() > 12)
		col = "candidate";
	const int w_us = std::max(9, int(col.size())), w_cnt = std::max(15, int(col.size()) + 3);
	const std::string batched_what = opt.candidate.empty()
						 ? std::string(opt.batched->name)
						 : opt.candidate + " (candidate, clang-14 -O2, no sanitizers)";
	std::printf("buddycheck bench: preset %s, %llu pages, memmap %s, alloc=kernel, pcp high %u batch %u; "
		    "per-page = oracle, %s = %s\n",
		    cfg.preset.c_str(), (unsigned long long)cfg.nr_pfns(), memmap_name(cfg.memmap), cfg.pcp_high,
		    cfg.pcp_batch, col.c_str(), batched_what.c_str());
	std::printf("wall: median of %d interleaved repetitions, ratio = per-page / %s; "
		    "counters: per iteration, per-page/%s (deterministic)\n\n",
		    opt.repetitions, col.c_str(), col.c_str());
	std::printf("%-34s %-26s %6s %6s %9s %*s", "scenario", "seed figure", "seed", "model", "us/iter", w_us, "us/iter");
	for (const auto &d : counter_defs)
		std::printf(" %*s", w_cnt, d.name);
	std::printf("\n%-34s %-26s %6s %6s %9s %*s", "", "", "ratio", "ratio", "per-page", w_us, col.c_str());
	for (size_t i = 0; i < std::size(counter_defs); i++)
		std::printf(" %*s", w_cnt, ("pp/" + col).c_str());
	std::printf("\n");
	int failed = 0;
	for (const scenario_result &r : results) {
		const scenario &s = *r.s;
		for (const engine_result &e : r.e)
			if (!e.error.empty()) {
				std::printf("%-34s FAILED: %s\n", s.name.c_str(), e.error.c_str());
				failed++;
			}
		if (!r.e[PER_PAGE].error.empty() || !r.e[BATCHED].error.empty())
			continue;
		const double pp = r.e[PER_PAGE].median_ns(), b = r.e[BATCHED].median_ns();
		std::printf("%-34s %-26s %6s %5.2fx %9s %*s", s.name.c_str(), s.seed_text.c_str(),
			    s.seed_ratio > 0 ? fmt("%.2fx", s.seed_ratio).c_str() : "-", ratio(pp, b), fmt_us(pp / 1e3).c_str(),
			    w_us, fmt_us(b / 1e3).c_str());
		for (const auto &d : counter_defs)
			std::printf(" %*s", w_cnt, (fmt_count(r.e[PER_PAGE].per_iter(d.field)) + "/" +
					      fmt_count(r.e[BATCHED].per_iter(d.field)))
						     .c_str());
		std::printf("\n");
	}
	const scenario_result *cma = nullptr;
	for (const scenario_result &r : results)
		if (r.s->name.rfind("cma", 0) == 0 && r.e[0].error.empty() && r.e[1].error.empty()) {
			cma = &r;
			break;
		}
	shape sh;
	if (cma) {
		sh = cma_shape(*cma);
		std::printf("\nprofile shape (%s), the seed's perf profile in counters:\n"
			    "  per-page: %.2f pcp commits (lock + insert) per prepared page -> dominated by per-page pcp commit: %s\n"
			    "  %-9s %.4f other free-path events (pcp lock/insert, free_one_page, zone lock) per prepared page"
			    " -> dominated by free_pages_prepare: %s\n",
			    cma->s->name.c_str(), sh.before_commits_per_prepare, sh.before_ok ? "yes" : "NO",
			    (col + ":").c_str(), sh.after_other_per_prepare, sh.after_ok ? "yes" : "NO");
	}
	std::printf("\n%.1f s\n", elapsed);

	if (!opt.json.empty()) {
		std::ofstream o(opt.json);
		o << "{\n  \"preset\": " << json_str(cfg.preset) << ", \"pages\": " << cfg.nr_pfns()
		  << ", \"memmap\": " << json_str(memmap_name(cfg.memmap)) << ", \"alloc\": \"kernel\""
		  << ", \"batched_engine\": " << json_str(opt.batched->name)
		  << ", \"candidate\": " << (opt.candidate.empty() ? "null" : json_str(opt.candidate)) << ",\n  \"quick\": " << (opt.quick ? "true" : "false")
		  << ", \"repetitions\": " << opt.repetitions << ", \"seconds\": " << fmt("%.2f", elapsed) << ",\n";
		if (cma)
			o << "  \"cma_profile_shape\": {\"per_page_pcp_commits_per_prepare\": "
			  << fmt("%.4f", sh.before_commits_per_prepare) << ", \"batched_other_events_per_prepare\": "
			  << fmt("%.6f", sh.after_other_per_prepare) << ", \"before_pcp_commit_dominated\": "
			  << (sh.before_ok ? "true" : "false")
			  << ", \"after_prepare_dominated\": " << (sh.after_ok ? "true" : "false") << "},\n";
		o << "  \"scenarios\": [\n";
		for (size_t i = 0; i < results.size(); i++) {
			const scenario_result &r = results[i];
			const double pp = r.e[PER_PAGE].median_ns(), b = r.e[BATCHED].median_ns();
			o << "    {\"name\": " << json_str(r.s->name) << ", \"seed_figure\": " << json_str(r.s->seed_text)
			  << ", \"seed_ratio\": " << (r.s->seed_ratio > 0 ? fmt("%.4f", r.s->seed_ratio) : "null")
			  << ", \"pages_per_iteration\": " << r.s->pages_per_iteration << ", \"free_only_timed\": " << (r.s->free_only ? "true" : "false")
			  << ", \"wall_ratio\": " << fmt("%.4f", ratio(pp, b))
			  << ", \"error\": " << json_str(r.e[0].error + r.e[1].error) << ",\n     \"per_page\": "
			  << engine_json(r.e[PER_PAGE], "oracle") << ",\n     \"batched\": "
			  << engine_json(r.e[BATCHED], opt.batched->name) << "}" << (i + 1 < results.size() ? "," : "") << "\n";
		}
		o << "  ]\n}\n";
		if (!o) {
			std::fprintf(stderr, "buddycheck bench: cannot write %s\n", opt.json.c_str());
			return 2;
		}
	}
	return failed ? 1 : 0;
}
