// The stages of `buddycheck check`: each fills one cell of a candidate's
// row through the same interface, running its child processes under the
// cell's limits; a child that exceeds one is a finding of the candidate
// (TIMEOUT, OOM), so is a crash in candidate code (with its stack).
#pragma once

#include "candidate.hpp"
#include "check.hpp"
#include "process.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bc::cli {

// What one stage is given for one candidate.
struct candidate_ctx {
	const candidate_source *src = nullptr;
	std::filesystem::path runner;  // the candidate's runner binary
	std::filesystem::path out;     // this candidate's output directory (absolute)
	const check_options *opt = nullptr;
	std::filesystem::path corpus;  // golden traces
	std::filesystem::path data;    // corpus/ root (fuzzer seeds)
	std::filesystem::path self;    // the buddycheck binary, for printed commands
};

// One finding of a cell, for the machine-readable reports (JSON, SARIF,
// JUnit); the notes say the same for a terminal.
struct finding_record {
	std::string rule;    // the obligation or invariant (chunk_in_range, differential, TIMEOUT, AddressSanitizer, ...)
	std::string message; // one line
	std::string source;  // "file:line" of the candidate's code it points at, when known
	std::string trace;   // the counterexample's trace file
	std::string replay;  // the command that replays it
};

struct cell {
	enum kind { pass, finding, own_failure } k = pass;
	std::vector<finding_record> found;
	std::string shown;    // in the table: pass, not-batched, COUNTEREXAMPLE, TIMEOUT, OOM, CRASH(SIGABRT), ...
	std::string expect;   // compared with the header's buddycheck-expect value
	std::vector<std::string> notes; // counterexample details (and how to replay them)
	std::string part;               // what in the column found it: golden, campaign, a fuzz target ("differential+bulk")
};

struct stage {
	virtual ~stage() = default;
	virtual std::string column() const = 0; // the header's key, too
	virtual std::string legend() const { return {}; } // what the column stands for, when its name does not say
	virtual cell run(const candidate_ctx &c) const = 0;
};

// The proofs column (proofs_stage.cpp): the chunk-loop obligations on the
// candidate's compiled code.
std::unique_ptr<stage> make_proofs_stage();

// The stages `check` runs, in column order, for these options.
std::vector<std::unique_ptr<stage>> check_stages(const check_options &opt);
// The same checks one stage a part, for `mutate --every-stage`: the golden
// traces and the campaign of each memory model apart, the properties, each
// fuzz target apart.
std::vector<std::unique_ptr<stage>> separate_stages(const check_options &opt);

// From a sanitizer's or the C runtime's report in LOG: its headline and the
// first frame in one of FILES ("file.c:12 in func"), or empty.  A file's
// path matches whole, or as the end of a frame's path after a '/' (a
// tree-relative name under #line, which debug info puts below the build
// directory).
struct crash_report {
	std::string headline, frame;
	std::vector<std::string> stack; // every frame in FILE, innermost first
};
crash_report read_crash_report(const std::string &log, const std::vector<source_file> &files);

// The environment of every child that runs candidate code: leaks off, a
// report (and stack) on abort(), symbolized frames.
std::vector<std::pair<std::string, std::string>> sanitizer_env(bool symbolize = true);

} // namespace bc::cli
