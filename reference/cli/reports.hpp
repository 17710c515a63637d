// The machine-readable forms of `check`'s result: JSON (the table, every
// finding, the timings, the version), SARIF 2.1.0 (one result per finding,
// at the candidate's source line, for code scanning) and JUnit XML (a
// testcase per candidate x column, for CI dashboards).
#pragma once

#include "stages.hpp"

#include <string>
#include <vector>

namespace bc::cli {

struct cell_report {
	std::string column;
	std::string shown;  // as in the table
	std::string status; // pass, finding, error
	double seconds = 0;
	std::vector<finding_record> found;
	std::vector<std::string> notes; // the text form
};

struct row_report {
	std::string candidate;           // the row's name
	std::string file;                // the candidate file judged
	std::string origin_kind;         // file, tree, patch
	std::vector<std::pair<std::string, std::string>> origin; // function, file:line
	bool untouched = false;          // a patch that changes none of the family
	std::vector<cell_report> cells;
};

struct check_report {
	std::string version;
	std::vector<std::pair<std::string, std::string>> columns; // name, the kernel layout it stands for
	std::vector<row_report> rows;
	std::string proofs;    // the proofs line, or empty
	std::string tree;      // --tree, absolute, or empty
	std::string out;       // the run's directory
	int exit_status = 0;
	double seconds = 0;
};

// The statement of a rule (an obligation, invariant or kind of finding):
// SARIF's help text.
std::string rule_statement(const std::string &rule);

std::string report_json(const check_report &r);
std::string report_sarif(const check_report &r);
std::string report_junit(const check_report &r);

} // namespace bc::cli
