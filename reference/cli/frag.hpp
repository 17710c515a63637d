// `buddycheck frag`: the fragmentation study (reference/frag) from the
// command line: the grid of runs (pressures x vmalloc shares x policies x
// seeds), worker processes, progress, and the outputs: CSV, JSON, gnuplot
// plots and the markdown report (docs/fragmentation.md).
#pragma once

#include "buddycheck/frag.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bc::cli {

struct frag_options {
	std::string scenario = "debate";
	std::vector<std::string> policies; // labels; empty: the scenario's
	unsigned seeds = 5;
	uint64_t first_seed = 1;
	std::vector<double> free_targets, vmalloc_shares; // empty: the scenario's grid
	frag::workload w;                                 // knobs over the scenario's (set flags only)
	std::vector<std::string> set;                     // which knobs were given ("--ops", ...)
	frag::run_options run;
	unsigned normal_mib = 1024;
	std::string out;    // directory for summary.csv, series.csv, results.json, meta.json, plots/
	bool plots = false; // SVG plots into OUT/plots (gnuplot)
	std::string report; // the markdown report, written here (links relative to it)
	std::string render; // re-render the report from this directory's summary.csv + meta.json to stdout
	bool quick = false;
	unsigned jobs = 1;
	bool quiet = false;
	std::string command_line; // as typed, for the report
};

void add_frag_command(CLI::App &app, frag_options &opt);
int run_frag(frag_options opt);

// ---- frag_output.cpp ----
// The metadata the report is rendered from besides the summary.
struct frag_meta {
	std::string command, scenario, scenario_doc, workload, config, policies;
	unsigned seeds = 0;
	uint64_t first_seed = 1, ops = 0, runs = 0;
	double seconds = 0, ops_per_second = 0;
	std::string cpu;
	std::vector<std::string> plots; // file names in plots/
};
std::string meta_json(const frag_meta &m);
bool read_meta_json(const std::string &text, frag_meta &m, std::string *error);
std::string results_json(const std::vector<frag::run_result> &runs, const frag_meta &m);
// Writes OUT/plots/*.svg with gnuplot; the file names written, or an error.
bool write_plots(const std::string &out, const std::vector<frag::run_result> &runs, const std::vector<frag::summary_row> &rows,
		 std::vector<std::string> &files, std::string *error);

// ---- frag_report.cpp ----
std::string render_report(const std::vector<frag::summary_row> &rows, const frag_meta &m, const std::string &plots_dir);

} // namespace bc::cli
