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
		auto defines = [&](const char *fn) {
			return std::any_of(c.src->defined.begin(), c.src->defined.end(),
					   [&](const definition &d) { return d.name == fn; });
		};
		const bool chunk = defines("free_prepared_contig_range"), split = defines("__free_contig_range_common");
		if (!chunk && !split) {
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
		const std::string stamp = "buddycheck-candidate-proofs 3\nbuddycheck " + t.version + "\n" +
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
				// The chunk loop and the run splitting kept out of line (at -O1 a
				// static one is inlined into its callers): declarations before
				// the file, static or not as the file defines each.
				bool compiled = false;
				for (int storage = 0; storage < 4 && !compiled; storage++) {
					if ((storage & 1 && !chunk) || (storage & 2 && !split))
						continue;
					std::ofstream w(tmp / "wrapper.c");
					w << defines_text << "struct page;\n";
					if (chunk)
						w << (storage & 1 ? "" : "static ")
						  << "void free_prepared_contig_range(struct page *page, unsigned long nr_pages) "
						     "__attribute__((noinline, used));\n";
					if (split)
						w << (storage & 2 ? "" : "static ")
						  << "void __free_contig_range_common(unsigned long pfn, unsigned long nr_pages, _Bool is_frozen) "
						     "__attribute__((noinline, used));\n";
					w << "#include \"" << c.src->file.string() << "\"\n";
					w.close();
					std::vector<std::string> cc = {t.cc, "-std=gnu11", "-O1", "-g", "-S", "-emit-llvm"};
					for (const auto &inc : t.includes)
						cc.push_back("-I" + inc);
					for (const std::string &arg :
					     {(tmp / "wrapper.c").string(), std::string("-o"), (tmp / "candidate.ll").string()})
						cc.push_back(arg);
					compiled = run(cc, tmp / "compile.log", 600).ok();
				}
				if (!compiled) {
					std::ofstream(tmp / "proofs.out")
						<< "RESULT verdict=not_proved refuted= not_maximal= reason=it does not compile for the proofs: "
						<< slurp(tmp / "compile.log").substr(0, 200) << "\n";
					return true;
				}
				// Each of the two where the file has it, at once (each uses every
				// core for its columns; together they overlap their slow ones).
				supervisor sup;
				std::vector<std::string> fns;
				for (const auto &[fn, on] : {std::pair{std::string("free_prepared_contig_range"), chunk},
							     std::pair{std::string("__free_contig_range_common"), split}}) {
					if (!on)
						continue;
					child_spec sp;
					sp.argv = {t.candidate_proofs.string(), "--function", fn,
						   (tmp / "candidate.ll").string()};
					sp.stdout_file = tmp / (fn + ".out");
					sp.stderr_to_stdout = true;
					sp.lim = {600, 4ull << 30};
					sup.start(sp);
					fns.push_back(fn);
				}
				const std::vector<child_outcome> outs = sup.wait_all();
				std::string all;
				for (size_t k = 0; k < fns.size(); k++) {
					if (outs[k].k != child_outcome::exited || outs[k].code > 2) {
						log = "candidate-proofs --function " + fns[k] + " " + outs[k].describe();
						return false;
					}
					all += slurp(tmp / (fns[k] + ".out"));
				}
				std::ofstream(tmp / "proofs.out") << all;
				return true;
			});
		const std::string out = l.ok ? slurp(l.dir / "proofs.out") : "";
		std::vector<std::string> results, replays, details;
		std::istringstream in(out);
		for (std::string line; std::getline(in, line);) {
			if (line.rfind("RESULT ", 0) == 0)
				results.push_back(line);
			else if (line.rfind("REPLAY ", 0) == 0)
				replays.push_back(line);
			else if (line.rfind("  ", 0) == 0 && line.find(": pfn0=") != std::string::npos)
				details.push_back(line.substr(2));
		}
		// One RESULT per proved function: refuted if either is, not proved
		// if either is not, else proved.
		std::string result;
		if (!results.empty()) {
			std::string v = "proved", refuted, reasons, not_max;
			for (const auto &r : results) {
				const std::string rv = field(r, "verdict");
				if (rv == "refuted")
					v = "refuted";
				else if (rv == "not_proved" && v != "refuted")
					v = "not_proved";
				if (const std::string f = field(r, "refuted"); !f.empty())
					refuted += (refuted.empty() ? "" : ",") + f;
				if (const std::string f = field(r, "reason"); !f.empty())
					reasons += (reasons.empty() ? "" : "; ") + f;
				if (const std::string f = field(r, "not_maximal"); !f.empty())
					not_max += (not_max.empty() ? "" : ",") + f;
			}
			result = "RESULT verdict=" + v + " refuted=" + refuted + " not_maximal=" + not_max + " reason=" + reasons;
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
					     << field(r, "config") << "\n";
			if (obl.rfind("split_", 0) == 0) {
				// The run splitting's input: the range, frozen or not, and the
				// pages whose free_pages_prepare() fails (HWPoison) or whose
				// refcount does not drop to zero (one more reference).
				const bool frozen = field(r, "frozen") == "1";
				std::ofstream t(trace, std::ios::app);
				t << "alloc_contig x " << field(r, "pfn") << " " << field(r, "count") << (frozen ? " frozen" : "")
				  << "\n";
				for (const char *key : {"poison", "extra_ref"}) {
					std::stringstream list(field(r, key));
					for (std::string q; std::getline(list, q, ',');)
						if (q != "-")
							t << (std::string(key) == "poison" ? "poison " : "get ") << q << "\n";
				}
				t << (frozen ? "__free_contig_frozen_range x\n" : "__free_contig_range x\n");
			} else {
				std::ofstream(trace, std::ios::app)
					<< "alloc_contig x " << field(r, "pfn") << " " << field(r, "count")
					<< " frozen\n__free_contig_frozen_range x\n";
			}
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
				const std::string input =
					obl.rfind("split_", 0) == 0
						? "__free_contig_range_common(pfn " + field(r, "pfn") + ", " + field(r, "count") +
							  " pages, " + (field(r, "frozen") == "1" ? "frozen" : "not frozen") +
							  "; prepare fails at " + field(r, "poison") + ", extra reference at " +
							  field(r, "extra_ref") + ") on " + col
						: "free_prepared_contig_range(pfn " + field(r, "pfn") + ", " + field(r, "count") +
							  " pages) on " + col;
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
