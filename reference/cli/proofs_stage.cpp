// The `proofs` column of `buddycheck check`: the chunk-loop obligations on
// the candidate's own compiled free_prepared_contig_range() (proofs/ir,
// candidate-proofs), computed once per candidate text and kept in the build
// cache with its IR; each refuted obligation's counterexample is replayed
// on the candidate's runner under the model, and only a replay that fails
// makes the cell REFUTED (a refutation without that evidence is "not
// proved": never a translation artefact reported as the candidate's bug).
#include "cache.hpp"
#include "candidate.hpp"
#include "recipe.hpp"
#include "stages.hpp"

#include "buddycheck/files.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

std::string field(const std::string &line, const std::string &key)
{
	const size_t p = line.find(" " + key + "=");
	if (p == std::string::npos)
		return "";
	const size_t b = p + key.size() + 2;
	return key == "config" || key == "reason" ? line.substr(b) : line.substr(b, line.find(' ', b) - b);
}

struct proofs_stage : stage {
	std::string column() const override { return "proofs"; }
	std::string legend() const override
	{
		return "the chunk loop's obligations proved on the candidate's compiled free_prepared_contig_range (Z3)";
	}

	cell run(const candidate_ctx &c) const override
	{
		cell x;
		const std::string name = c.src->name();
		const bool defines = std::any_of(c.src->defined.begin(), c.src->defined.end(),
						 [](const definition &d) { return d.name == "free_prepared_contig_range"; });
		if (!defines) {
			x.shown = "reference";
			x.expect = "reference";
			return x;
		}
		const toolchain &t = load_toolchain();
		if (t.candidate_proofs.empty() || !fs::exists(t.candidate_proofs)) {
			x.k = cell::own_failure;
			x.shown = "ERROR";
			x.notes.push_back(name +
					  " [proofs]: no candidate-proofs binary in this build (buddycheck's own failure)");
			return x;
		}
		// The IR and the proofs' output, once per candidate text.
		std::string defines_text;
		for (const auto &d : c.src->defined)
			defines_text += "#define BC_CANDIDATE_DEFINES_" + d.name + " 1\n";
		std::error_code ec;
		const auto proofs_time = fs::last_write_time(t.candidate_proofs, ec).time_since_epoch().count();
		const std::string stamp = "buddycheck-candidate-proofs 1\nbuddycheck " + t.version + "\n" +
					  toolchain_fingerprint() + "candidate-proofs " + t.candidate_proofs.string() + " " +
					  std::to_string(fs::file_size(t.candidate_proofs, ec)) + " " +
					  std::to_string(proofs_time) + "\nsource " + c.src->file.string() + " " +
					  hash_hex(c.src->text) + "\n" + defines_text;
		const cache_lookup l =
			cache_get(c.src->file.stem().string() + "-proofs", stamp, [&](const fs::path &tmp, std::string &log) {
				auto run = [&](std::vector<std::string> argv, const fs::path &out, double secs) {
					child_spec s;
					s.argv = std::move(argv);
					s.stdout_file = out;
					s.stderr_to_stdout = true;
					s.lim = {secs, 4ull << 30};
					return run_child(s);
				};
				// free_prepared_contig_range kept out of line (at -O1 a static one
				// is inlined into its callers): a declaration before the file,
				// static or not as the file defines it.
				bool compiled = false;
				for (const char *storage : {"static ", ""}) {
					std::ofstream(tmp / "wrapper.c")
						<< defines_text << "struct page;\n"
						<< storage
						<< "void free_prepared_contig_range(struct page *page, unsigned long nr_pages) "
						   "__attribute__((noinline, used));\n#include \""
						<< c.src->file.string() << "\"\n";
					std::vector<std::string> cc = {t.cc, "-std=gnu11", "-O1", "-g", "-S", "-emit-llvm"};
					for (const auto &inc : t.includes)
						cc.push_back("-I" + inc);
					for (const std::string &a :
					     {(tmp / "wrapper.c").string(), std::string("-o"), (tmp / "candidate.ll").string()})
						cc.push_back(a);
					if (run(cc, tmp / "compile.log", 600).ok()) {
						compiled = true;
						break;
					}
				}
				if (!compiled) {
					std::ofstream(tmp / "proofs.out")
						<< "RESULT verdict=not_proved refuted= not_maximal= reason=it does not compile for the proofs: "
						<< slurp(tmp / "compile.log").substr(0, 200) << "\n";
					return true;
				}
				const child_outcome o = run({t.candidate_proofs.string(), (tmp / "candidate.ll").string()},
							    tmp / "proofs.out", 600);
				if (o.k != child_outcome::exited || o.code > 2) {
					log = "candidate-proofs " + o.describe();
					return false;
				}
				return true;
			});
		const std::string out = l.ok ? slurp(l.dir / "proofs.out") : "";
		std::string result;
		std::vector<std::string> replays, details;
		std::istringstream in(out);
		for (std::string line; std::getline(in, line);) {
			if (line.rfind("RESULT ", 0) == 0)
				result = line;
			else if (line.rfind("REPLAY ", 0) == 0)
				replays.push_back(line);
			else if (line.rfind("  ", 0) == 0 && line.find(": pfn0=") != std::string::npos)
				details.push_back(line.substr(2));
		}
		if (result.empty()) {
			x.k = cell::own_failure;
			x.shown = "ERROR";
			x.notes.push_back(name + " [proofs]: the candidate proofs gave no result (buddycheck's own failure): " +
					  (l.error.empty() ? l.log : l.error));
			return x;
		}
		const std::string verdict = field(result, "verdict");
		const std::string not_maximal = field(result, "not_maximal");
		if (verdict == "not_proved") {
			x.shown = "not proved";
			x.expect = "not-proved";
			x.notes.push_back(name + " [proofs]: not proved: " + field(result, "reason"));
			return x;
		}
		if (verdict == "proved") {
			x.shown = "proved";
			x.expect = "proved";
			if (!not_maximal.empty())
				x.notes.push_back(name + " [proofs]: proved, but not maximal (correct, not batched) in " +
						  not_maximal);
			return x;
		}
		// Refuted: each counterexample replayed on the candidate's runner.
		std::string reproduced, unreproduced;
		for (const auto &r : replays) {
			const std::string obl = field(r, "obligation"), col = field(r, "column");
			const std::string detail = [&] {
				for (const auto &d : details)
					if (d.rfind(obl + " [" + col + "]", 0) == 0)
						return d;
				return std::string();
			}();
			if (col.empty()) {
				unreproduced += (unreproduced.empty() ? "" : "; ") + obl +
						": no counterexample fits a model buddycheck can run";
				continue;
			}
			const fs::path trace = c.out / ("proofs-" + obl + ".trace");
			std::ofstream(trace) << "# proofs: " << obl << " refuted on the compiled candidate: " << detail << "\n"
					     << "# the counterexample's run, replayed on the candidate under the model\n"
					     << "buddycheck-trace 1\n"
					     << field(r, "config") << "\nalloc_contig x " << field(r, "pfn") << " "
					     << field(r, "count") << " frozen\n__free_contig_frozen_range x\n";
			child_spec s;
			s.argv = {c.runner.string(), "replay", trace.string()};
			s.env = sanitizer_env();
			s.stdout_file = c.out / ("proofs-" + obl + ".replay");
			s.stderr_to_stdout = true;
			s.lim = {120, c.opt->cell_memory_mb << 20};
			const child_outcome o = run_child(s);
			const std::string shown_out = slurp(s.stdout_file);
			const bool failed = !(o.k == child_outcome::exited && (o.code == 0 || o.code == 2));
			if (failed) {
				if (reproduced.empty())
					reproduced = obl;
				std::string head = shown_out.substr(0, shown_out.find('\n'));
				const std::string input = "free_prepared_contig_range(pfn " + field(r, "pfn") + ", " +
							  field(r, "count") + " pages) on " + col;
				std::string ub;
				if (const size_t u = detail.find(" undefined: "); u != std::string::npos)
					ub = " (" + detail.substr(u + 12) + ")";
				x.found.push_back({"proof:" + obl, obl + " refuted: " + input + ub, "", trace.string(),
						   shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(),
							       trace.string()})});
				x.notes.push_back(name + " [proofs]: " + obl + " refuted: " + input + ub +
						  "\n    replayed: " + head + "\n    solver: " + detail +
						  "\n    trace:  " + trace.string() + "\n    replay: " +
						  shell_line({c.self.string(), "replay", "--candidate", c.src->file.string(),
							      trace.string()}));
			} else {
				unreproduced += (unreproduced.empty() ? "" : "; ") + obl + ": the compiled candidate runs " +
						trace.string() + " cleanly";
			}
		}
		if (!reproduced.empty()) {
			x.k = cell::finding;
			x.shown = "REFUTED(" + reproduced + ")";
			x.expect = "refuted";
			if (!unreproduced.empty())
				x.notes.push_back(name + " [proofs]: also refuted by Z3, not reproduced: " + unreproduced);
			return x;
		}
		x.shown = "not proved";
		x.expect = "not-proved";
		x.notes.push_back(name + " [proofs]: not proved: Z3 refutes " + field(result, "refuted") +
				  " but no counterexample reproduces on the compiled candidate (" + unreproduced + ")");
		return x;
	}
};

} // namespace

std::unique_ptr<stage> make_proofs_stage() { return std::make_unique<proofs_stage>(); }

} // namespace bc::cli
