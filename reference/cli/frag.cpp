// `buddycheck frag`: the options, the grid of runs, the worker processes
// (each a fork under a CPU-time and an address-space limit, reporting its
// progress and results over a pipe), the progress line and the outputs.
#include "frag.hpp"

#include "check.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::cli {

using namespace bc::frag;

void add_frag_command(CLI::App &app, frag_options &o)
{
	CLI::App *c = app.add_subcommand(
		"frag", "The fragmentation study: a seeded workload of slab, page cache and vmalloc on the model with the "
			"kernel's allocation policy, vmalloc's policies side by side, the kernel's fragmentation metrics");
	auto knob = [&](const char *flag, auto &var, const char *doc) {
		return c->add_option(flag, var, doc)->capture_default_str()->each([&o, flag](const std::string &) {
			o.set.push_back(flag);
		});
	};
	c->add_option("--scenario", o.scenario, "debate (the comparison), all-movable or pinned (the sanity checks)")
		->check(CLI::IsMember({"debate", "all-movable", "pinned"}))
		->capture_default_str();
	c->add_option("--policy", o.policies,
		      "vmalloc policies to run (default: the scenario's): order0|high + per-page|bulk|bulk-direct, e.g. "
		      "high+bulk")
		->delimiter(',');
	c->add_option("--seeds", o.seeds, "seeds per cell and policy")->check(CLI::Range(1u, 1000u))->capture_default_str();
	c->add_option("--seed", o.first_seed, "the first seed")->capture_default_str();
	c->add_option("--free-target", o.free_targets,
		      "free memory the workload keeps, fractions (default: the scenario's; debate: 0.05,0.1,0.2,0.5)")
		->delimiter(',')
		->check(CLI::Range(0.01, 0.95));
	c->add_option("--vmalloc-share", o.vmalloc_shares,
		      "vmalloc's share of the allocated page volume, fractions (default: debate 0.05,0.2,0.5)")
		->delimiter(',')
		->check(CLI::Range(0.0, 0.9));
	knob("--ops", o.w.ops, "operations (allocations + frees) per run")->check(CLI::Range(uint64_t(1), uint64_t(1) << 40));
	knob("--unmovable-share", o.w.unmovable_share, "slab-like unmovable order 0-1 share of the volume")
		->check(CLI::Range(0.0, 0.9));
	knob("--atomic-share", o.w.atomic_share, "order-3 atomic requests' share of the volume")->check(CLI::Range(0.0, 0.5));
	knob("--thp-share", o.w.thp_share, "order-9 movable (THP) requests' share of the volume")->check(CLI::Range(0.0, 0.9));
	knob("--folio-fraction", o.w.folio_fraction, "of the page-cache volume, the part in order-2..4 folios")
		->check(CLI::Range(0.0, 1.0));
	knob("--slab-sigma", o.w.slab_sigma, "log-normal sigma of slab lifetimes (the tail)")->check(CLI::Range(0.0, 10.0));
	knob("--cache-sigma", o.w.cache_sigma, "log-normal sigma of page-cache lifetimes")->check(CLI::Range(0.0, 10.0));
	knob("--vmalloc-sigma", o.w.vmalloc_sigma, "log-normal sigma of vmalloc lifetimes")->check(CLI::Range(0.0, 10.0));
	knob("--thp-sigma", o.w.thp_sigma, "log-normal sigma of THP lifetimes")->check(CLI::Range(0.0, 10.0));
	knob("--slab-long-lived", o.w.slab_long_lived, "fraction of slab objects never freed")->check(CLI::Range(0.0, 1.0));
	knob("--vmalloc-max-pages", o.w.vmalloc_max_pages, "largest vmalloc area, pages (sizes log-uniform from 1)")
		->check(CLI::Range(2u, 1u << 16));
	knob("--vmalloc-stack-fraction", o.w.vmalloc_stack_fraction, "fraction of vmalloc areas that are 16 KiB stacks")
		->check(CLI::Range(0.0, 1.0));
	knob("--vmalloc-max-order", o.w.vmalloc_max_order, "high: the largest order vm_area_alloc_pages() tries")
		->check(CLI::Range(1u, 10u));
	c->add_flag("--pin-per-pageblock", o.w.pin_per_pageblock,
		    "first pin one unmovable page in every pageblock (the pinned scenario's adversary)")
		->each([&o](const std::string &) { o.set.push_back("--pin-per-pageblock"); });
	c->add_option("--normal-mib", o.normal_mib, "size of ZONE_NORMAL, MiB (x86_64 shape; DMA32 is 64 MiB below it)")
		->check(CLI::Range(128u, 15000u))
		->capture_default_str();
	c->add_option("--sample-every", o.run.sample_every, "a sample every N operations (0: ops/100)")->capture_default_str();
	c->add_option("--check-every", o.run.check_every, "the full invariant checker every N operations (0: never; 1: always)")
		->capture_default_str();
	c->add_flag("--check-ranges", o.run.check_ranges, "also the range invariants over the pfns each operation touched");
	c->add_option("--migration-budget", o.run.migration_budget,
		      "pages of migration for the compaction proxy's 'blocks at budget'")
		->capture_default_str();
	c->add_option("--jobs", o.jobs, "worker processes (runs at once)")->check(CLI::Range(1u, 64u))->capture_default_str();
	c->add_option("--out", o.out, "write summary.csv, series.csv, results.json and meta.json into this directory");
	c->add_flag("--plots", o.plots, "SVG plots into OUT/plots with gnuplot (needs --out)");
	c->add_option("--report", o.report, "render the markdown report to this file (needs --out)");
	c->add_option("--render-report", o.render,
		      "print the report rendered from DIR's summary.csv and meta.json (what --report wrote), run nothing");
	c->add_flag(
		"--quick", o.quick,
		"a small grid for tests: a 128 MiB Normal zone, 2 seeds, 200000 operations, one cell (free 0.2, vmalloc 0.2)");
	c->add_flag("-q,--quiet", o.quiet, "no progress on stderr");
}

namespace {

// Everything one run needs, in the grid's order.
struct run_spec {
	workload w;
	policy p;
	uint64_t seed;
};

std::string cpu_model()
{
	std::ifstream in("/proc/cpuinfo");
	for (std::string line; std::getline(in, line);)
		if (line.rfind("model name", 0) == 0) {
			const auto colon = line.find(':');
			return colon == std::string::npos ? line : line.substr(colon + 2);
		}
	return "unknown CPU";
}

nlohmann::json sample_json(const sample &s)
{
	nlohmann::json j;
	j["op"] = s.op;
	j["free_fraction"] = s.free_fraction;
	j["unusable"] = {s.unusable[0], s.unusable[1]};
	j["fragindex"] = {s.fragindex[0], s.fragindex[1]};
	j["free_blocks_ge"] = {s.free_blocks_ge[0], s.free_blocks_ge[1]};
	j["mixed_pageblocks"] = s.mixed_pageblocks;
	j["polluted_pageblocks"] = s.polluted_pageblocks;
	j["pageblocks_by_type"] = {s.pageblocks_by_type[0], s.pageblocks_by_type[1], s.pageblocks_by_type[2]};
	j["extfrag"] = {s.extfrag_claim, s.extfrag_steal};
	j["atomic3"] = {s.atomic3_ok, s.atomic3_fail};
	j["thp"] = {s.thp_ok, s.thp_fail};
	j["vmalloc_fallback"] = s.vmalloc_fallback;
	j["spill_fraction"] = s.spill_fraction;
	j["compact_min"] = {s.compact_min[0], s.compact_min[1]};
	j["compact_at_budget"] = {s.compact_at_budget[0], s.compact_at_budget[1]};
	j["compactable"] = {s.compactable[0], s.compactable[1]};
	return j;
}

sample sample_from(const nlohmann::json &j)
{
	sample s;
	s.op = j["op"];
	s.free_fraction = j["free_fraction"];
	for (int i = 0; i < 2; i++) {
		s.unusable[i] = j["unusable"][i];
		s.fragindex[i] = j["fragindex"][i];
		s.free_blocks_ge[i] = j["free_blocks_ge"][i];
		s.compact_min[i] = j["compact_min"][i];
		s.compact_at_budget[i] = j["compact_at_budget"][i];
		s.compactable[i] = j["compactable"][i];
	}
	s.mixed_pageblocks = j["mixed_pageblocks"];
	s.polluted_pageblocks = j["polluted_pageblocks"];
	for (int i = 0; i < 3; i++)
		s.pageblocks_by_type[i] = j["pageblocks_by_type"][i];
	s.extfrag_claim = j["extfrag"][0];
	s.extfrag_steal = j["extfrag"][1];
	s.atomic3_ok = j["atomic3"][0];
	s.atomic3_fail = j["atomic3"][1];
	s.thp_ok = j["thp"][0];
	s.thp_fail = j["thp"][1];
	s.vmalloc_fallback = j["vmalloc_fallback"];
	s.spill_fraction = j["spill_fraction"];
	return s;
}

// What a worker sends back for one run (the parent knows the spec).
nlohmann::json result_json(const run_result &r)
{
	nlohmann::json j;
	j["series"] = nlohmann::json::array();
	for (const sample &s : r.series)
		j["series"].push_back(sample_json(s));
	j["final"] = sample_json(r.final_state);
	j["buddyinfo"] = r.buddyinfo;
	j["pagetypeinfo"] = r.pagetypeinfo;
	j["ops_done"] = r.ops_done;
	j["allocs"] = r.allocs;
	j["frees"] = r.frees;
	j["seconds"] = r.seconds;
	j["checks"] = r.checks;
	j["failure"] = r.failure;
	j["drained_buddyinfo"] = r.drained_buddyinfo;
	return j;
}

void result_from(const nlohmann::json &j, run_result &r)
{
	for (const auto &s : j["series"])
		r.series.push_back(sample_from(s));
	r.final_state = sample_from(j["final"]);
	r.buddyinfo = j["buddyinfo"].get<std::vector<unsigned long>>();
	r.pagetypeinfo = j["pagetypeinfo"].get<std::vector<std::vector<unsigned long>>>();
	r.ops_done = j["ops_done"];
	r.allocs = j["allocs"];
	r.frees = j["frees"];
	r.seconds = j["seconds"];
	r.checks = j["checks"];
	r.failure = j["failure"];
	r.drained_buddyinfo = j["drained_buddyinfo"].get<std::vector<std::vector<unsigned long>>>();
}

void write_all(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		const ssize_t n = write(fd, s.data() + off, s.size() - off);
		if (n <= 0)
			_exit(4);
		off += size_t(n);
	}
}

// A line per percent of the operations, once the runs take longer than two
// seconds; the rate is the operations so far over the elapsed time.
struct progress_line {
	bool quiet;
	uint64_t total;
	double t0 = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
	int shown = -1;
	void update(uint64_t done, size_t runs_done, size_t runs)
	{
		if (quiet || !total)
			return;
		const double t = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count() - t0;
		const int pct = int(100.0 * double(done) / double(total));
		if (t < 2 || pct == shown)
			return;
		shown = pct;
		std::fprintf(stderr, "buddycheck frag: %3d%% (%zu/%zu runs, %.2fM ops/s)\n", pct, runs_done, runs,
			     double(done) / t / 1e6);
	}
};

// Runs the specs in `jobs` forked workers, spec i in worker i % jobs.
// Each worker: RLIMIT_CPU (4 CPU-seconds per million operations and a
// minute more), and a resident-set limit of 4 GiB the parent enforces
// (RLIMIT_AS would refuse a sanitizer's shadow memory); a worker that dies
// without its results is buddycheck's own failure.
// BUDDYCHECK_FRAG_WORKER_RSS_MB lowers it (the ctest that shows the limit bites).
uint64_t worker_rss_limit_bytes()
{
	if (const char *e = std::getenv("BUDDYCHECK_FRAG_WORKER_RSS_MB"))
		if (const unsigned long long mb = std::strtoull(e, nullptr, 10))
			return uint64_t(mb) << 20;
	return uint64_t(4) << 30;
}

uint64_t rss_of(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/statm");
	uint64_t size = 0, resident = 0;
	f >> size >> resident;
	return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

bool run_grid(const std::vector<run_spec> &specs, const frag_options &o, const std::string &scenario,
	      std::vector<run_result> &out, std::string *error)
{
	out.assign(specs.size(), {});
	uint64_t total_ops = 0;
	for (const run_spec &s : specs)
		total_ops += s.w.ops;
	progress_line prog{o.quiet, total_ops};
	const config cfg = study_config(o.normal_mib);
	const unsigned jobs = std::min<unsigned>(o.jobs, unsigned(specs.size()));
	struct worker {
		pid_t pid;
		int fd;
		std::string buf;
		uint64_t ops_now = 0; // of the run in progress
		bool eof = false;
		bool over_memory = false;
	};
	std::vector<worker> ws;
	for (unsigned k = 0; k < jobs; k++) {
		int fds[2];
		if (pipe(fds) != 0) {
			*error = "pipe() failed";
			return false;
		}
		std::fflush(nullptr);
		const pid_t pid = fork();
		if (pid < 0) {
			*error = "fork() failed";
			return false;
		}
		if (pid == 0) {
			close(fds[0]);
			// A worker does not outlive buddycheck (killed, interrupted).
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(4);
			uint64_t my_ops = 0;
			for (size_t i = k; i < specs.size(); i += jobs)
				my_ops += specs[i].w.ops;
			const rlim_t cpu = rlim_t(60 + 4 * (my_ops / 1000000 + 1) * (o.run.check_every == 1 ? 2000 : 1));
			const struct rlimit lc = {cpu, cpu + 5};
			setrlimit(RLIMIT_CPU, &lc);
			for (size_t i = k; i < specs.size(); i += jobs) {
				run_options ro = o.run;
				ro.progress = [&](uint64_t done) { write_all(fds[1], "P " + std::to_string(done) + "\n"); };
				const run_result r = run(scenario, specs[i].w, specs[i].p, specs[i].seed, ro, &cfg);
				write_all(fds[1], "R " + std::to_string(i) + " " + result_json(r).dump() + "\n");
			}
			close(fds[1]);
			_exit(0);
		}
		close(fds[1]);
		ws.push_back({pid, fds[0], "", 0, false, false});
	}
	uint64_t done_ops = 0;
	size_t runs_done = 0;
	bool ok = true;
	const uint64_t worker_rss_limit = worker_rss_limit_bytes();
	for (;;) {
		std::vector<pollfd> pf;
		for (const worker &w : ws)
			if (!w.eof)
				pf.push_back({w.fd, POLLIN, 0});
		if (pf.empty())
			break;
		for (worker &w : ws)
			if (!w.eof && !w.over_memory && rss_of(w.pid) > worker_rss_limit) {
				w.over_memory = true;
				kill(w.pid, SIGKILL);
			}
		if (poll(pf.data(), pf.size(), 250) <= 0)
			continue;
		for (worker &w : ws) {
			if (w.eof)
				continue;
			char b[65536];
			pollfd one{w.fd, POLLIN, 0};
			if (poll(&one, 1, 0) <= 0)
				continue;
			const ssize_t n = read(w.fd, b, sizeof b);
			if (n <= 0) {
				w.eof = true;
				continue;
			}
			w.buf.append(b, size_t(n));
			for (size_t nl; (nl = w.buf.find('\n')) != std::string::npos;) {
				const std::string line = w.buf.substr(0, nl);
				w.buf.erase(0, nl + 1);
				if (line.rfind("P ", 0) == 0) {
					w.ops_now = std::stoull(line.substr(2));
				} else if (line.rfind("R ", 0) == 0) {
					const size_t sp = line.find(' ', 2);
					const size_t i = std::stoull(line.substr(2, sp - 2));
					result_from(nlohmann::json::parse(line.substr(sp + 1)), out[i]);
					out[i].scenario = scenario;
					out[i].pol = specs[i].p;
					out[i].seed = specs[i].seed;
					out[i].w = specs[i].w;
					done_ops += specs[i].w.ops;
					w.ops_now = 0;
					runs_done++;
				}
			}
		}
		uint64_t now = done_ops;
		for (const worker &w : ws)
			now += w.ops_now;
		prog.update(now, runs_done, specs.size());
	}
	for (worker &w : ws) {
		close(w.fd);
		int status = 0;
		waitpid(w.pid, &status, 0);
		if (w.over_memory) {
			ok = false;
			*error = "a worker process went over its memory limit (" + std::to_string(worker_rss_limit >> 20) +
				 " MiB resident) and was killed";
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			ok = false;
			*error = "a worker process ended with " +
				 (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status)) + " (" +
								strsignal(WTERMSIG(status)) + ")"
						      : "exit status " + std::to_string(WEXITSTATUS(status))) +
				 " before its runs were done (its CPU-time limit?)";
		}
	}
	if (ok && runs_done != specs.size()) {
		ok = false;
		*error = "only " + std::to_string(runs_done) + " of " + std::to_string(specs.size()) + " runs came back";
	}
	return ok;
}

// The scenario's workload with the knobs the command line set.
workload merged_workload(const frag_options &o, const scenario &s)
{
	workload w = s.w;
	const workload &k = o.w;
	for (const std::string &f : o.set) {
		if (f == "--ops")
			w.ops = k.ops;
		else if (f == "--unmovable-share")
			w.unmovable_share = k.unmovable_share;
		else if (f == "--atomic-share")
			w.atomic_share = k.atomic_share;
		else if (f == "--thp-share")
			w.thp_share = k.thp_share;
		else if (f == "--folio-fraction")
			w.folio_fraction = k.folio_fraction;
		else if (f == "--slab-sigma")
			w.slab_sigma = k.slab_sigma;
		else if (f == "--cache-sigma")
			w.cache_sigma = k.cache_sigma;
		else if (f == "--vmalloc-sigma")
			w.vmalloc_sigma = k.vmalloc_sigma;
		else if (f == "--thp-sigma")
			w.thp_sigma = k.thp_sigma;
		else if (f == "--slab-long-lived")
			w.slab_long_lived = k.slab_long_lived;
		else if (f == "--vmalloc-max-pages")
			w.vmalloc_max_pages = k.vmalloc_max_pages;
		else if (f == "--vmalloc-stack-fraction")
			w.vmalloc_stack_fraction = k.vmalloc_stack_fraction;
		else if (f == "--vmalloc-max-order")
			w.vmalloc_max_order = k.vmalloc_max_order;
		else if (f == "--pin-per-pageblock")
			w.pin_per_pageblock = true;
	}
	return w;
}

bool write_file(const fs::path &p, const std::string &text, std::string *error)
{
	std::ofstream f(p, std::ios::binary);
	f << text;
	f.close();
	if (!f) {
		*error = "cannot write " + p.string();
		return false;
	}
	return true;
}

int fail(int status, const std::string &msg)
{
	std::fprintf(stderr, "buddycheck frag: %s\n", msg.c_str());
	return status;
}

} // namespace

int run_frag(frag_options o)
{
	if (!o.render.empty()) {
		std::string csv, meta, error;
		std::ifstream a(fs::path(o.render) / "summary.csv"), b(fs::path(o.render) / "meta.json");
		if (!a || !b)
			return fail(exit_bad_input, o.render + ": no summary.csv and meta.json here (written by --out)");
		std::stringstream sa, sb;
		sa << a.rdbuf();
		sb << b.rdbuf();
		std::vector<summary_row> rows;
		frag_meta m;
		if (!read_summary_csv(sa.str(), rows, &error))
			return fail(exit_bad_input, o.render + "/summary.csv: " + error);
		if (!read_meta_json(sb.str(), m, &error))
			return fail(exit_bad_input, o.render + "/meta.json: " + error);
		std::fputs(render_report(rows, m, (fs::path(o.render).filename() / "plots").string()).c_str(), stdout);
		return exit_pass;
	}
	if ((o.plots || !o.report.empty()) && o.out.empty())
		return fail(exit_bad_input, "--plots and --report need --out DIR (where the data they come from goes)");
	const scenario *sc = find_scenario(o.scenario);
	if (!sc)
		return fail(exit_bad_input, "unknown scenario '" + o.scenario + "'");
	workload w = merged_workload(o, *sc);
	std::vector<policy> pols = sc->policies;
	if (!o.policies.empty()) {
		pols.clear();
		for (const std::string &l : o.policies) {
			policy p;
			if (!parse_policy(l, p))
				return fail(exit_bad_input, "unknown policy '" + l +
								    "' (order0+per-page, high+per-page, order0+bulk, high+bulk, "
								    "high+bulk-direct)");
			pols.push_back(p);
		}
	}
	std::vector<double> frees = o.free_targets, shares = o.vmalloc_shares;
	if (o.quick) {
		o.normal_mib = 128;
		if (!std::count(o.set.begin(), o.set.end(), "--ops"))
			w.ops = 200000;
		o.seeds = 2;
	}
	const bool debate = sc->name == "debate";
	if (frees.empty())
		frees = debate && !o.quick ? std::vector<double>{0.05, 0.1, 0.2, 0.5} : std::vector<double>{w.free_target};
	if (shares.empty())
		shares = debate && !o.quick ? std::vector<double>{0.05, 0.2, 0.5} : std::vector<double>{w.vmalloc_share};
	if (o.quick && debate) {
		frees = {0.2};
		shares = {0.2};
	}
	std::vector<run_spec> specs;
	for (double f : frees)
		for (double v : shares)
			for (const policy &p : pols)
				for (unsigned s = 0; s < o.seeds; s++) {
					workload x = w;
					x.free_target = f;
					x.vmalloc_share = v;
					if (x.vmalloc_share + x.unmovable_share + x.atomic_share + x.thp_share > 1)
						return fail(exit_bad_input,
							    "the shares of the volume add up to more than 1 (vmalloc " +
								    fmt_value(v) + ")");
					specs.push_back({x, p, o.first_seed + s});
				}
	if (!o.out.empty()) {
		std::error_code ec;
		fs::create_directories(fs::path(o.out) / "plots", ec);
		if (ec)
			return fail(exit_bad_input, "cannot create " + o.out + ": " + ec.message());
	}
	const auto t0 = std::chrono::steady_clock::now();
	std::vector<run_result> runs;
	std::string error;
	if (!run_grid(specs, o, sc->name, runs, &error))
		return fail(exit_own_failure, error + " (buddycheck's own failure)");
	const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	uint64_t ops = 0;
	double cpu_seconds = 0;
	for (const run_result &r : runs) {
		ops += r.ops_done;
		cpu_seconds += r.seconds;
		if (!r.failure.empty())
			return fail(exit_own_failure, "run " + r.pol.label() + " seed " + std::to_string(r.seed) +
							      ": the model's invariant broke: " + r.failure +
							      " (buddycheck's own failure: the trusted model)");
	}
	const std::vector<summary_row> rows = summarize(runs);
	frag_meta m;
	m.command = o.command_line;
	m.scenario = sc->name;
	m.scenario_doc = sc->doc;
	m.workload = w.describe();
	m.config = describe(study_config(o.normal_mib));
	for (const policy &p : pols)
		m.policies += (m.policies.empty() ? "" : ",") + p.label();
	m.seeds = o.seeds;
	m.first_seed = o.first_seed;
	m.ops = w.ops;
	m.runs = runs.size();
	m.seconds = seconds;
	m.ops_per_second = cpu_seconds > 0 ? double(ops) / cpu_seconds : 0;
	m.cpu = cpu_model();
	// The table on stdout: a row per cell and policy, the headline metrics.
	const char *headline[] = {"unusable_index_9",      "fragmentation_index_9", "mixed_pageblocks",
				  "extfrag_steal_per_kop", "thp_success_pct",       "atomic3_success_pct"};
	std::printf("buddycheck frag: scenario %s, %zu runs (%u seeds), %llu ops each, %.1f s, %.2fM ops/s per run (%s)\n",
		    sc->name.c_str(), runs.size(), o.seeds, (unsigned long long)w.ops, seconds, m.ops_per_second / 1e6,
		    m.cpu.c_str());
	std::printf("%-6s %-7s %-17s", "free", "vmalloc", "policy");
	for (const char *h : headline)
		std::printf(" %22s", h);
	std::printf("\n");
	for (size_t i = 0; i < rows.size();) {
		const summary_row &r = rows[i];
		std::printf("%-6s %-7s %-17s", fmt_value(r.c.free_target).c_str(), fmt_value(r.c.vmalloc_share).c_str(),
			    r.policy.c_str());
		for (const char *h : headline)
			for (size_t j = i; j < rows.size() && rows[j].c == r.c && rows[j].policy == r.policy; j++)
				if (rows[j].metric == h) {
					const std::string v =
						rows[j].v.n ? fmt_value(rows[j].v.mean) + " ±" + fmt_value(rows[j].v.half) : "-";
					std::printf(" %22s", v.c_str());
				}
		std::printf("\n");
		while (i < rows.size() && rows[i].c == r.c && rows[i].policy == r.policy)
			i++;
	}
	if (o.out.empty())
		return exit_pass;
	const fs::path dir(o.out);
	if (o.plots && !write_plots(o.out, runs, rows, m.plots, &error))
		return fail(exit_own_failure, error);
	if (!write_file(dir / "summary.csv", summary_csv(rows), &error) ||
	    !write_file(dir / "series.csv", series_csv(runs), &error) ||
	    !write_file(dir / "results.json", results_json(runs, m), &error) ||
	    !write_file(dir / "meta.json", meta_json(m), &error))
		return fail(exit_own_failure, error);
	if (!o.report.empty()) {
		// Rendered from the data as written (rounded as in the files), so
		// that --render-report of the directory gives the same text.
		std::vector<summary_row> written;
		frag_meta wm;
		if (!read_summary_csv(summary_csv(rows), written, &error) || !read_meta_json(meta_json(m), wm, &error))
			return fail(exit_own_failure, "the data just written does not read back: " + error);
		const fs::path rel = fs::relative(fs::absolute(dir) / "plots", fs::absolute(fs::path(o.report)).parent_path());
		if (!write_file(o.report, render_report(written, wm, rel.string()), &error))
			return fail(exit_own_failure, error);
	}
	if (!o.quiet)
		std::fprintf(stderr, "buddycheck frag: wrote %s (summary.csv, series.csv, results.json, meta.json%s)%s\n",
			     o.out.c_str(), o.plots ? ", plots/" : "", o.report.empty() ? "" : (" and " + o.report).c_str());
	return exit_pass;
}

} // namespace bc::cli
