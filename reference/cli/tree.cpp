#include "tree.hpp"

#include "cache.hpp"
#include "recipe.hpp"

#include "buddycheck/intake.hpp"

#include <fstream>
#include <mutex>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

// The shim's names, once per process (a parse of every shim header).
const std::set<std::string> &shim_names()
{
	static std::once_flag once;
	static std::set<std::string> names;
	std::call_once(once, [] { names = intake::shim_symbols(load_toolchain().includes); });
	return names;
}

} // namespace

intake::extract_options shim_extract_options()
{
	const toolchain &t = load_toolchain();
	intake::extract_options o;
	o.entry_points = entry_point_names();
	o.include_dirs = t.includes;
	for (const auto &n : o.entry_points)
		o.extra_args.push_back("-DBC_CANDIDATE_DEFINES_" + n + "=1");
	o.shim_symbols = shim_names();
	return o;
}

candidate_source candidate_from_functions(const intake::extraction &x, const std::string &origin, const std::string &name,
					  const std::string &label)
{
	candidate_source bad;
	std::error_code ec;
	// One file per content, in the cache: the same functions are the same
	// candidate file, so its builds are found again.
	const std::string text = intake::compose_candidate(x, origin);
	const fs::path dir = cache_dir() / "intake" / hash_hex(text);
	const fs::path file = dir / (name + ".c");
	fs::create_directories(dir, ec);
	if (!fs::exists(file, ec)) {
		const fs::path tmp = dir / ("." + name + ".c." + std::to_string(getpid()));
		std::ofstream(tmp) << text;
		fs::rename(tmp, file, ec); // atomic: a concurrent run writes the same bytes
		if (ec) {
			bad.error = "cannot write " + file.string() + " in the build cache: " + ec.message();
			return bad;
		}
	}
	candidate_source src = inspect_candidate(file.string());
	if (!src.ok())
		return src;
	src.label = label;
	src.origin_kind = "tree";
	std::set<std::string> files;
	for (const auto &f : x.functions) {
		src.origin.push_back(
			{f.name + (f.entry ? "" : " (helper of " + f.used_by + ")"), f.file + ":" + std::to_string(f.line)});
		files.insert(f.file);
	}
	for (const auto &f : files)
		src.sources.push_back({f, f});
	return src;
}

candidate_source candidate_from_tree(const fs::path &tree_arg, const std::string &label, std::vector<std::string> &notes,
				     const fs::path &overlay, const std::set<std::string> &removed)
{
	candidate_source bad;
	std::error_code ec;
	const fs::path tree = fs::absolute(tree_arg, ec).lexically_normal();
	intake::extract_options o = shim_extract_options();
	o.overlay = overlay;
	o.removed = removed;
	const intake::extraction x = intake::extract_family(tree, o);
	if (!x.ok()) {
		bad.error = x.error;
		return bad;
	}
	notes.insert(notes.end(), x.notes.begin(), x.notes.end());
	std::string name = tree.filename().string();
	if (name.empty())
		name = "tree";
	bool any_entry = false;
	for (const auto &f : x.functions)
		any_entry |= f.entry;
	if (!any_entry) {
		bad.error = tree_arg.string() + ": none of the family's functions (" + std::to_string(o.entry_points.size()) +
			    ", e.g. free_contig_range) is defined in mm/page_alloc.c, include/linux/mm.h, mm/vmalloc.c or the " +
			    std::to_string(x.searched.size()) + " other files that name them";
		return bad;
	}
	return candidate_from_functions(x, tree.string(), name, label.empty() ? name + " (tree)" : label);
}

} // namespace bc::cli
