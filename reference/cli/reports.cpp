#include "reports.hpp"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::cli {

std::string rule_statement(const std::string &rule)
{
	static const std::map<std::string, std::string> s = {
		{"chunk_order_cap", "Every chunk freed through __free_frozen_pages() has order <= MAX_PAGE_ORDER."},
		{"chunk_aligned", "Every chunk freed through __free_frozen_pages() is naturally aligned: its pfn is a multiple of 2^order."},
		{"chunk_in_section", "Every chunk lies inside one memory section."},
		{"chunk_in_zone", "Every chunk lies inside one zone."},
		{"chunk_prepared",
		 "Under FPI_PREPARED, every page of the chunk went through a successful free_pages_prepare() and is not yet free."},
		{"chunk_in_range", "Every chunk lies inside the pages the caller asked to free."},
		{"pfn_valid", "pfn_to_page() is only given valid pfns (present sections, below the end of memory)."},
		{"struct_page_pointer",
		 "Every struct page pointer the code hands back to the kernel is a page of the memmap (no page++ walk out of a "
		 "section's memmap)."},
		{"kernel_bug", "No BUG_ON/VM_BUG_ON fires and no undefined operation (__ffs(0)) is done."},
		{"double_free", "No page is freed twice."},
		{"refcount_underflow", "No page's reference count drops below zero."},
		{"split_page_compound", "split_page() is never given a compound page."},
		{"pfn_single_state", "Every valid pfn is in exactly one state: allocated, leaked, reserved, or in one free block."},
		{"block_aligned", "Every free block is naturally aligned to its order."},
		{"block_order_cap", "No free block has an order above MAX_PAGE_ORDER."},
		{"block_in_zone", "Every free block lies inside one zone."},
		{"block_in_section", "Every free block lies inside one memory section."},
		{"poison_never_free", "No HWPoisoned page is ever part of a free block."},
		{"free_list_structure", "The free lists are well-formed: each block is on the list of its order and migratetype once."},
		{"free_list_migratetype", "A free block is on the list of its pageblock's migratetype."},
		{"free_counters", "zone->nr_free_pages and free_area[].nr_free agree with the free lists."},
		{"nr_vmalloc", "NR_VMALLOC counts exactly the pages vmalloc holds."},
		{"canonical_form", "After a drain, the free blocks are those the per-page oracle's free path leaves: every buddy merged."},
		{"differential",
		 "Each operation gives the same result on the candidate as on the naive per-page oracle: the same pages free, the "
		 "same WARNs, the same allocations."},
		{"expect", "A golden trace's documented expectation (chunks, free blocks, leaks) holds."},
		{"expectation", "A golden trace's documented expectation holds."},
		{"not_batched", "The candidate frees in no more chunks than the minimal decomposition (--require-batched)."},
		{"TIMEOUT", "The candidate finishes each cell within its wall-clock limit (a runaway loop does not)."},
		{"OOM", "The candidate stays within its cell's memory limit."},
		{"crash", "The candidate's process does not die by a signal."},
		{"AddressSanitizer", "No memory error (AddressSanitizer) in the candidate's code."},
		{"UBSan", "No undefined behaviour (UndefinedBehaviorSanitizer) in the candidate's code."},
		{"libFuzzer", "The fuzz target does not crash, hang or exhaust memory on any input."},
	};
	// The proofs column's obligations (proofs/README.md, Candidates).
	static const std::map<std::string, std::string> proof = {
		{"entry", "The chunk loop is reached for every run, with nothing undefined before it."},
		{"defined", "No path of the chunk loop has undefined behaviour, a BUG or a WARN."},
		{"one_chunk", "Each iteration of the chunk loop frees exactly one chunk."},
		{"alignment", "Each chunk the loop frees is naturally aligned."},
		{"fit", "Each chunk fits in the pages left of the run."},
		{"cap", "Each chunk has order <= MAX_PAGE_ORDER."},
		{"section", "Each chunk lies in one memory section."},
		{"tiling", "The chunks start where the last one ended and the loop stops exactly at the end of the run."},
		{"progress", "nr_pages drops with every chunk, so the loop ends."},
		{"zero_exit", "With no pages left the loop frees nothing and ends."},
	};
	if (rule.rfind("proof:", 0) == 0) {
		auto p = proof.find(rule.substr(6));
		return "Proved on the candidate's compiled chunk loop for every input: " +
		       (p == proof.end() ? rule.substr(6) + " holds." : p->second);
	}
	auto it = s.find(rule);
	return it == s.end() ? "The check named " + rule + " holds." : it->second;
}

namespace {

// "mm/page_alloc.c:126" -> file, line (0 when none).
std::pair<std::string, int> split_source(const std::string &src)
{
	const size_t c = src.rfind(':');
	if (c == std::string::npos || c + 1 >= src.size() || !std::isdigit(static_cast<unsigned char>(src[c + 1])))
		return {src, 0};
	return {src.substr(0, c), std::atoi(src.c_str() + c + 1)};
}

std::string file_uri(const std::string &abs)
{
	std::string u = "file://";
	for (char ch : abs)
		u += ch == ' ' ? std::string("%20") : std::string(1, ch);
	return u;
}

std::string xml(const std::string &s)
{
	std::string o;
	for (char c : s)
		switch (c) {
		case '<': o += "&lt;"; break;
		case '>': o += "&gt;"; break;
		case '&': o += "&amp;"; break;
		case '"': o += "&quot;"; break;
		default:
			if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
				o += ' ';
			else
				o += c;
		}
	return o;
}

std::string seconds3(double s)
{
	char b[32];
	std::snprintf(b, sizeof b, "%.3f", s);
	return b;
}

} // namespace

std::string report_json(const check_report &r)
{
	nlohmann::json j;
	j["tool"] = "buddycheck";
	j["version"] = r.version;
	j["exit_status"] = r.exit_status;
	j["seconds"] = r.seconds;
	j["out"] = r.out;
	if (!r.tree.empty())
		j["tree"] = r.tree;
	j["columns"] = nlohmann::json::array();
	for (const auto &[c, legend] : r.columns)
		j["columns"].push_back({{"name", c}, {"layout", legend}});
	j["rows"] = nlohmann::json::array();
	for (const auto &row : r.rows) {
		nlohmann::json x = {{"candidate", row.candidate}, {"file", row.file}, {"untouched", row.untouched}};
		x["from"] = nlohmann::json::array();
		for (const auto &[fn, at] : row.origin)
			x["from"].push_back({{"function", fn}, {"at", at}, {"kind", row.origin_kind}});
		x["cells"] = nlohmann::json::array();
		for (const auto &c : row.cells) {
			nlohmann::json y = {{"column", c.column}, {"shown", c.shown}, {"status", c.status}, {"seconds", c.seconds}};
			y["findings"] = nlohmann::json::array();
			for (const auto &f : c.found)
				y["findings"].push_back({{"rule", f.rule},
							 {"message", f.message},
							 {"source", f.source},
							 {"trace", f.trace},
							 {"replay", f.replay}});
			y["notes"] = c.notes;
			x["cells"].push_back(y);
		}
		j["rows"].push_back(x);
	}
	if (!r.proofs.empty())
		j["proofs"] = r.proofs;
	return j.dump(1) + "\n";
}

std::string report_sarif(const check_report &r)
{
	nlohmann::json rules = nlohmann::json::array(), results = nlohmann::json::array();
	std::map<std::string, size_t> rule_index;
	for (const auto &row : r.rows)
		for (const auto &c : row.cells)
			for (const auto &f : c.found) {
				if (!rule_index.count(f.rule)) {
					rule_index[f.rule] = rules.size();
					rules.push_back({{"id", f.rule},
							 {"name", f.rule},
							 {"shortDescription", {{"text", rule_statement(f.rule)}}},
							 {"help", {{"text", rule_statement(f.rule)}}},
							 {"defaultConfiguration", {{"level", "error"}}}});
				}
				// Where: the candidate's line; else its first function's.
				std::string src = f.source;
				if (src.empty() && !row.origin.empty())
					src = row.origin.front().second;
				auto [file, line] = split_source(src);
				nlohmann::json art;
				if (file.empty()) {
					art = {{"uri", file_uri(row.file)}};
				} else if (row.origin_kind != "file") {
					art = {{"uri", file}, {"uriBaseId", "SRCROOT"}}; // relative to the tree
				} else {
					const fs::path p = fs::path(file).is_absolute() ? fs::path(file) : fs::path(row.file).parent_path() / file;
					art = {{"uri", file_uri(p.string())}};
				}
				nlohmann::json phys = {{"artifactLocation", art}};
				if (line > 0)
					phys["region"] = {{"startLine", line}};
				nlohmann::json res = {
					{"ruleId", f.rule},
					{"ruleIndex", rule_index[f.rule]},
					{"level", "error"},
					{"message", {{"text", row.candidate + " [" + c.column + "]: " + f.message}}},
					{"locations", nlohmann::json::array({{{"physicalLocation", phys}}})},
					{"properties", {{"candidate", row.candidate}, {"column", c.column}, {"replay", f.replay}}}};
				if (!f.trace.empty())
					res["relatedLocations"] = nlohmann::json::array(
						{{{"id", 1},
						  {"physicalLocation", {{"artifactLocation", {{"uri", file_uri(f.trace)}}}}},
						  {"message", {{"text", "the counterexample trace; replay: " + f.replay}}}}});
				results.push_back(res);
			}
	nlohmann::json run = {{"tool", {{"driver", {{"name", "buddycheck"}, {"version", r.version}, {"rules", rules}}}}},
			      {"results", results},
			      {"columnKind", "utf16CodeUnits"}};
	if (!r.tree.empty())
		run["originalUriBaseIds"] = {{"SRCROOT", {{"uri", file_uri(r.tree + (r.tree.back() == '/' ? "" : "/"))}}}};
	nlohmann::json j = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
			    {"version", "2.1.0"},
			    {"runs", nlohmann::json::array({run})}};
	return j.dump(1) + "\n";
}

std::string report_junit(const check_report &r)
{
	size_t tests = 0, failures = 0, errors = 0, skipped = 0;
	std::ostringstream suites;
	for (const auto &row : r.rows) {
		size_t t = 0, f = 0, e = 0, s = 0;
		double secs = 0;
		std::ostringstream cases;
		if (row.untouched) {
			t = s = 1;
			cases << "  <testcase classname=\"buddycheck." << xml(row.candidate) << "\" name=\"all columns\" time=\"0\">\n"
			      << "   <skipped message=\"untouched: the patch changes no function of the family\"/>\n  </testcase>\n";
		}
		for (const auto &c : row.cells) {
			t++;
			secs += c.seconds;
			cases << "  <testcase classname=\"buddycheck." << xml(row.candidate) << "\" name=\"" << xml(c.column)
			      << "\" time=\"" << seconds3(c.seconds) << "\"";
			if (c.status == "pass") {
				cases << "/>\n";
				continue;
			}
			std::string text;
			for (const auto &n : c.notes)
				text += n + "\n";
			const std::string head = c.found.empty() ? c.shown : c.found.front().rule + ": " + c.found.front().message;
			if (c.status == "finding") {
				f++;
				cases << ">\n   <failure type=\"" << xml(c.found.empty() ? c.shown : c.found.front().rule) << "\" message=\""
				      << xml(head) << "\">" << xml(text) << "</failure>\n  </testcase>\n";
			} else {
				e++;
				cases << ">\n   <error type=\"buddycheck\" message=\"" << xml(c.shown) << "\">" << xml(text)
				      << "</error>\n  </testcase>\n";
			}
		}
		tests += t;
		failures += f;
		errors += e;
		skipped += s;
		suites << " <testsuite name=\"" << xml(row.candidate) << "\" tests=\"" << t << "\" failures=\"" << f << "\" errors=\""
		       << e << "\" skipped=\"" << s << "\" time=\"" << seconds3(secs) << "\">\n"
		       << cases.str() << " </testsuite>\n";
	}
	std::ostringstream o;
	o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"buddycheck " << xml(r.version) << "\" tests=\""
	  << tests << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\""
	  << seconds3(r.seconds) << "\">\n"
	  << suites.str() << "</testsuites>\n";
	return o.str();
}

} // namespace bc::cli
