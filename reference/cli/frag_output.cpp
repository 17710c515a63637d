// `buddycheck frag`'s files: meta.json (what the report is rendered from
// besides summary.csv), results.json (every run: parameters, steady-state
// values, the final buddyinfo and pagetypeinfo; the time series are in
// series.csv) and the gnuplot plots.
#include "frag.hpp"

#include "buddycheck/model.hpp"
#include "process.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::cli {

using namespace bc::frag;

std::string meta_json(const frag_meta &m)
{
	nlohmann::json j;
	j["command"] = m.command;
	j["scenario"] = m.scenario;
	j["scenario_doc"] = m.scenario_doc;
	j["workload"] = m.workload;
	j["config"] = m.config;
	j["policies"] = m.policies;
	j["seeds"] = m.seeds;
	j["first_seed"] = m.first_seed;
	j["ops"] = m.ops;
	j["runs"] = m.runs;
	j["seconds"] = std::round(m.seconds * 10) / 10;
	j["ops_per_second"] = std::round(m.ops_per_second);
	j["cpu"] = m.cpu;
	j["plots"] = m.plots;
	return j.dump(1) + "\n";
}

bool read_meta_json(const std::string &text, frag_meta &m, std::string *error)
{
	try {
		const nlohmann::json j = nlohmann::json::parse(text);
		m.command = j.at("command");
		m.scenario = j.at("scenario");
		m.scenario_doc = j.at("scenario_doc");
		m.workload = j.at("workload");
		m.config = j.at("config");
		m.policies = j.at("policies");
		m.seeds = j.at("seeds");
		m.first_seed = j.at("first_seed");
		m.ops = j.at("ops");
		m.runs = j.at("runs");
		m.seconds = j.at("seconds");
		m.ops_per_second = j.at("ops_per_second");
		m.cpu = j.at("cpu");
		m.plots = j.at("plots").get<std::vector<std::string>>();
	} catch (const std::exception &e) {
		*error = e.what();
		return false;
	}
	return true;
}

std::string results_json(const std::vector<run_result> &runs, const frag_meta &m)
{
	nlohmann::json j;
	j["meta"] = nlohmann::json::parse(meta_json(m));
	j["metrics"] = nlohmann::json::array();
	for (const metric &x : metrics())
		j["metrics"].push_back({{"name", x.name}, {"unit", x.unit}, {"doc", x.doc}});
	j["runs"] = nlohmann::json::array();
	for (const run_result &r : runs) {
		nlohmann::json o;
		o["scenario"] = r.scenario;
		o["policy"] = r.pol.label();
		o["seed"] = r.seed;
		o["workload"] = r.w.describe();
		o["free_target"] = r.w.free_target;
		o["vmalloc_share"] = r.w.vmalloc_share;
		o["ops"] = r.ops_done;
		o["allocs"] = r.allocs;
		o["frees"] = r.frees;
		o["invariant_checks"] = r.checks;
		o["buddyinfo"] = r.buddyinfo;
		nlohmann::json pt;
		for (unsigned mt = 0; mt < r.pagetypeinfo.size(); mt++)
			pt[bc::migratetype_name(mt)] = r.pagetypeinfo[mt];
		o["pagetypeinfo_free"] = pt;
		nlohmann::json steady;
		const std::vector<sample> w = steady_window(r);
		for (const metric &x : metrics()) {
			const double v = x.value(w);
			steady[x.name] = std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
		}
		o["steady"] = steady;
		j["runs"].push_back(o);
	}
	return j.dump(1) + "\n";
}

namespace {

// The metrics plotted over time (the headline cell) and over the grid.
const char *const series_metrics[] = {"unusable_index_9", "mixed_pageblocks",     "extfrag_steal_per_kop",
				      "thp_success_pct",  "unmovable_pageblocks", "compact9_at_budget"};
const char *const grid_metrics[] = {"unusable_index_3",      "unusable_index_9",    "fragmentation_index_9",
				    "mixed_pageblocks",      "polluted_pageblocks", "extfrag_steal_per_kop",
				    "extfrag_claim_per_kop", "thp_success_pct",     "atomic3_success_pct",
				    "compact9_at_budget",    "compact9_min_pages",  "free_order9_blocks"};

std::string title_of(const metric &m)
{
	std::string t = m.doc;
	if (*m.unit)
		t += std::string(" (") + m.unit + ")";
	std::string out;
	for (char c : t)
		out += c == '"' ? '\'' : c;
	return out;
}

} // namespace

bool write_plots(const std::string &out, const std::vector<run_result> &runs, const std::vector<summary_row> &rows,
		 std::vector<std::string> &files, std::string *error)
{
	if (runs.empty())
		return true;
	std::vector<cell> cells;
	std::vector<std::string> pols;
	for (const summary_row &r : rows) {
		if (std::find(cells.begin(), cells.end(), r.c) == cells.end())
			cells.push_back(r.c);
		if (std::find(pols.begin(), pols.end(), r.policy) == pols.end())
			pols.push_back(r.policy);
	}
	// The headline cell: 10% free and 20% vmalloc when the grid has it.
	cell head = cells.front();
	for (const cell &c : cells)
		if (std::abs(c.free_target - 0.1) < 1e-9 && std::abs(c.vmalloc_share - 0.2) < 1e-9)
			head = c;
	std::ostringstream gp;
	gp << "# Written by buddycheck frag: one SVG per metric, a line per policy, the shaded band its 95% interval "
	      "over the seeds.\n"
	   << "set terminal svg size 760,420 dynamic font 'sans,11'\nset key outside right top\nset grid\n"
	   << "set style fill transparent solid 0.18 noborder\n";
	const fs::path dir = fs::path(out) / "plots";
	int block = 0;
	for (const char *name : series_metrics) {
		const metric *m = find_metric(name);
		const std::string file = std::string("series_") + name + ".svg";
		files.push_back(file);
		std::vector<std::string> plot;
		for (size_t pi = 0; pi < pols.size(); pi++) {
			std::vector<const run_result *> rs;
			for (const run_result &r : runs)
				if (cell_of(r) == head && r.pol.label() == pols[pi])
					rs.push_back(&r);
			if (rs.empty())
				continue;
			const std::string b = "$d" + std::to_string(block++);
			gp << b << " << EOD\n";
			for (size_t k = 0; k < rs[0]->series.size(); k++) {
				std::vector<double> xs;
				for (const run_result *r : rs)
					if (k < r->series.size()) {
						const double v = m->at(r->series[k ? k - 1 : 0], r->series[k]);
						if (!std::isnan(v))
							xs.push_back(v);
					}
				if (xs.empty())
					continue;
				const interval iv = mean_ci(xs);
				gp << double(rs[0]->series[k].op) / 1e6 << ' ' << iv.mean << ' ' << iv.mean - iv.half << ' '
				   << iv.mean + iv.half << '\n';
			}
			gp << "EOD\n";
			plot.push_back(b + " using 1:3:4 with filledcurves lc " + std::to_string(pi + 1) + " notitle");
			plot.push_back(b + " using 1:2 with lines lw 2 lc " + std::to_string(pi + 1) + " title '" + pols[pi] +
				       "'");
		}
		gp << "set output '" << file << "'\n"
		   << "set title \"" << title_of(*m) << "\\nfree " << fmt_value(head.free_target * 100) << "%, vmalloc "
		   << fmt_value(head.vmalloc_share * 100) << "% of the volume\"\n"
		   << "set xlabel 'million operations'\nunset ylabel\n";
		gp << "plot ";
		for (size_t i = 0; i < plot.size(); i++)
			gp << (i ? ", \\\n     " : "") << plot[i];
		gp << "\n";
	}
	// Over the grid: x the free target, a panel per vmalloc share.
	std::vector<double> shares;
	for (const cell &c : cells)
		if (std::find(shares.begin(), shares.end(), c.vmalloc_share) == shares.end())
			shares.push_back(c.vmalloc_share);
	for (const char *name : grid_metrics) {
		const metric *m = find_metric(name);
		const std::string file = std::string("grid_") + name + ".svg";
		files.push_back(file);
		gp << "set terminal svg size " << 330 * shares.size() + 200 << ",420 dynamic font 'sans,11'\n"
		   << "set output '" << file << "'\n"
		   << "set multiplot layout 1," << shares.size() << " title \"" << title_of(*m) << ", steady state\"\n"
		   << "set xlabel 'free memory (%)'\nset logscale x\nunset title\n";
		for (size_t si = 0; si < shares.size(); si++) {
			std::vector<std::string> plot;
			for (size_t pi = 0; pi < pols.size(); pi++) {
				const std::string b = "$d" + std::to_string(block++);
				gp << b << " << EOD\n";
				for (const summary_row &r : rows)
					if (r.policy == pols[pi] && r.metric == name && r.c.vmalloc_share == shares[si] && r.v.n)
						gp << r.c.free_target * 100 << ' ' << r.v.mean << ' ' << r.v.half << '\n';
				gp << "EOD\n";
				plot.push_back(b + " using 1:2:3 with yerrorlines lw 2 lc " + std::to_string(pi + 1) +
					       (si + 1 == shares.size() ? " title '" + pols[pi] + "'" : " notitle"));
			}
			gp << "set title 'vmalloc " << fmt_value(shares[si] * 100) << "%'\n";
			if (si + 1 != shares.size())
				gp << "unset key\n";
			else
				gp << "set key outside right top\n";
			gp << "plot ";
			for (size_t i = 0; i < plot.size(); i++)
				gp << (i ? ", \\\n     " : "") << plot[i];
			gp << "\n";
		}
		gp << "unset multiplot\nunset logscale x\nset key outside right top\n"
		   << "set terminal svg size 760,420 dynamic font 'sans,11'\n";
	}
	const fs::path script = dir / "plots.gp";
	{
		std::ofstream f(script);
		f << gp.str();
		if (!f) {
			*error = "cannot write " + script.string();
			return false;
		}
	}
	child_spec spec;
	spec.argv = {"gnuplot", "plots.gp"};
	spec.cwd = dir; // the script names its outputs relative to it
	spec.stderr_file = dir / "gnuplot.log";
	spec.lim.wall_seconds = 300;
	spec.lim.rss_bytes = uint64_t(2) << 30;
	const child_outcome r = run_child(spec);
	if (r.k == child_outcome::spawn_failed) {
		*error = "cannot run gnuplot (" + r.error + "): no plots; ci/setup installs gnuplot-nox";
		return false;
	}
	if (!r.ok()) {
		*error = "gnuplot failed: " + r.describe() + " (see " + spec.stderr_file.string() + ")";
		return false;
	}
	std::error_code ec;
	fs::remove(spec.stderr_file, ec);
	return true;
}

} // namespace bc::cli
