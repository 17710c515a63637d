// The free family's functions in a kernel tree, found by libclang.
//
// Each file is parsed as a virtual file (so "internal.h" and <linux/...>
// resolve to the kernel shim, never to the tree's own headers, which would
// not fit the model), with KeepGoing and no error limit: a kernel file has
// thousands of errors against the shim, but libclang still builds a
// FunctionDecl for every definition, and its extent gives the exact text.
// What the preprocessor skips under the shim's configuration is reported
// from libclang's skipped ranges, not guessed.
#include "buddycheck/intake.hpp"

#include "buddycheck/files.hpp"

#include <algorithm>
#include <clang-c/Index.h>
#include <map>
#include <memory>

namespace fs = std::filesystem;

namespace bc::intake {

namespace {

std::string take(CXString s)
{
	const char *c = clang_getCString(s);
	std::string r = c ? c : "";
	clang_disposeString(s);
	return r;
}

using index_ptr = std::unique_ptr<void, void (*)(void *)>;
using tu_ptr = std::unique_ptr<CXTranslationUnitImpl, void (*)(CXTranslationUnit)>;

index_ptr new_index()
{
	return index_ptr(clang_createIndex(0, 0), [](void *i) { clang_disposeIndex(i); });
}

std::vector<std::string> parse_args(const std::vector<std::string> &include_dirs, const std::vector<std::string> &extra)
{
	std::vector<std::string> a = extra;
	for (const auto &d : include_dirs)
		a.push_back("-I" + d);
	for (const char *x : {"-xc", "-std=gnu11", "-ferror-limit=0", "-Wno-everything", "-D__KERNEL__"})
		a.push_back(x);
	return a;
}

tu_ptr parse(void *index, const std::string &path, const std::string &text, const std::vector<std::string> &args, unsigned flags)
{
	std::vector<const char *> argv;
	for (const auto &a : args)
		argv.push_back(a.c_str());
	CXUnsavedFile unsaved{path.c_str(), text.data(), (unsigned long)text.size()};
	CXTranslationUnit tu = nullptr;
	if (clang_parseTranslationUnit2(index, path.c_str(), argv.data(), int(argv.size()), &unsaved, 1,
					CXTranslationUnit_KeepGoing | flags, &tu) != CXError_Success)
		tu = nullptr;
	return tu_ptr(tu, clang_disposeTranslationUnit);
}

std::vector<CXCursor> children(CXCursor c)
{
	std::vector<CXCursor> v;
	clang_visitChildren(
		c,
		[](CXCursor k, CXCursor, CXClientData d) {
			static_cast<std::vector<CXCursor> *>(d)->push_back(k);
			return CXChildVisit_Continue;
		},
		&v);
	return v;
}

struct definition {
	std::string name;
	unsigned begin = 0, body = 0, end = 0; // offsets: first token, the body's '{', one past '}'
	int line = 0, end_line = 0;
	std::set<std::string> calls; // functions it calls or takes the address of
};

struct parsed_file {
	std::vector<definition> defs;
	std::vector<std::pair<unsigned, unsigned>> skipped; // offsets the preprocessor skipped
	bool ok = false;
};

parsed_file parse_file(void *index, const std::string &rel, const std::string &text, const std::vector<std::string> &args)
{
	parsed_file pf;
	const std::string path = "/buddycheck-intake/" + rel; // not on disk: includes resolve to the shim
	tu_ptr tu = parse(index, path, text, args, CXTranslationUnit_DetailedPreprocessingRecord);
	if (!tu)
		return pf;
	CXFile main = clang_getFile(tu.get(), path.c_str());
	if (!main)
		return pf;
	pf.ok = true;
	auto offset = [&](CXSourceLocation l, unsigned &off, int *line) {
		CXFile f;
		unsigned ln, col;
		clang_getSpellingLocation(l, &f, &ln, &col, &off);
		if (line)
			*line = int(ln);
		return f && clang_File_isEqual(f, main);
	};
	for (const CXCursor &c : children(clang_getTranslationUnitCursor(tu.get()))) {
		if (clang_getCursorKind(c) != CXCursor_FunctionDecl || !clang_isCursorDefinition(c))
			continue;
		definition d;
		d.name = take(clang_getCursorSpelling(c));
		const CXSourceRange r = clang_getCursorExtent(c);
		if (!offset(clang_getRangeStart(r), d.begin, &d.line) || !offset(clang_getRangeEnd(r), d.end, &d.end_line))
			continue;
		bool body = false;
		for (const CXCursor &k : children(c))
			if (clang_getCursorKind(k) == CXCursor_CompoundStmt) {
				body = offset(clang_getRangeStart(clang_getCursorExtent(k)), d.body, nullptr);
				clang_visitChildren(
					k,
					[](CXCursor e, CXCursor, CXClientData data) {
						const CXCursorKind kind = clang_getCursorKind(e);
						if (kind == CXCursor_CallExpr ||
						    (kind == CXCursor_DeclRefExpr &&
						     clang_getCursorKind(clang_getCursorReferenced(e)) == CXCursor_FunctionDecl))
							static_cast<std::set<std::string> *>(data)->insert(
								take(clang_getCursorSpelling(e)));
						return CXChildVisit_Recurse;
					},
					&d.calls);
			}
		if (body && d.begin < d.body && d.body < d.end && d.end <= text.size())
			pf.defs.push_back(std::move(d));
	}
	if (CXSourceRangeList *sk = clang_getSkippedRanges(tu.get(), main)) {
		for (unsigned i = 0; i < sk->count; i++) {
			unsigned b, e;
			if (offset(clang_getRangeStart(sk->ranges[i]), b, nullptr) &&
			    offset(clang_getRangeEnd(sk->ranges[i]), e, nullptr))
				pf.skipped.emplace_back(b, e);
		}
		clang_disposeSourceRangeList(sk);
	}
	return pf;
}

// Offsets where NAME is followed by '(' as a whole word: the files worth
// parsing, and where a skipped definition would be.
std::vector<size_t> mentions(const std::string &text, const std::string &name)
{
	std::vector<size_t> at;
	auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
	for (size_t p = text.find(name); p != std::string::npos; p = text.find(name, p + 1)) {
		if (p && word(text[p - 1]))
			continue;
		size_t q = p + name.size();
		while (q < text.size() && (text[q] == ' ' || text[q] == '\t'))
			q++;
		if (q < text.size() && text[q] == '(')
			at.push_back(p);
	}
	return at;
}

int line_of(const std::string &text, size_t off)
{
	return 1 + int(std::count(text.begin(), text.begin() + long(std::min(off, text.size())), '\n'));
}

// From the start of the definition's first line when only blanks precede it.
unsigned line_start(const std::string &text, unsigned begin)
{
	unsigned b = begin;
	while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t'))
		b--;
	return b == 0 || text[b - 1] == '\n' ? b : begin;
}

// The file REL of the tree as OPT sees it (its overlay first), or empty.
fs::path source_of(const fs::path &tree, const extract_options &opt, const std::string &rel)
{
	std::error_code ec;
	if (opt.removed.count(rel))
		return {};
	if (!opt.overlay.empty() && fs::is_regular_file(opt.overlay / rel, ec))
		return opt.overlay / rel;
	return fs::is_regular_file(tree / rel, ec) ? tree / rel : fs::path();
}

std::vector<std::string> files_in(const fs::path &tree, const extract_options &opt, const std::string &dir,
				  const std::vector<std::string> &exts)
{
	std::set<std::string> out;
	std::error_code ec;
	for (const fs::path &root : {tree, opt.overlay}) {
		if (root.empty())
			continue;
		for (const auto &e : fs::directory_iterator(root / dir, ec))
			if (e.is_regular_file(ec) &&
			    std::find(exts.begin(), exts.end(), e.path().extension().string()) != exts.end() &&
			    !opt.removed.count(dir + "/" + e.path().filename().string()))
				out.insert(dir + "/" + e.path().filename().string());
	}
	return {out.begin(), out.end()};
}

// The entry points of MISSING that REL (its TEXT) defines, with the helpers
// they call that it defines and the shim does not provide; each taken one
// leaves MISSING.
void take_from_file(void *index, const std::string &rel, const std::string &text, const std::vector<std::string> &args,
		    const extract_options &opt, std::set<std::string> &missing, extraction &x)
{
	std::map<std::string, std::vector<size_t>> named;
	for (const auto &n : missing)
		if (auto m = mentions(text, n); !m.empty())
			named[n] = std::move(m);
	if (named.empty())
		return;
	const parsed_file pf = parse_file(index, rel, text, args);
	x.searched.push_back(rel);
	if (!pf.ok) {
		x.notes.push_back(rel + ": libclang could not parse it");
		return;
	}
	std::map<std::string, const definition *> by_name;
	for (const auto &d : pf.defs)
		by_name.emplace(d.name, &d);
	// The entry points here, then the helpers they call that this
	// file defines and the shim does not provide.
	std::map<std::string, std::string> take_from_here; // name -> caller ("" for an entry point)
	for (const auto &[n, at] : named) {
		if (by_name.count(n))
			take_from_here[n] = "";
		// A definition the preprocessor skipped (kernel style: at the
		// start of an unindented line; calls are indented).
		auto skipped_definition = [&](size_t off) {
			const size_t bol = text.rfind('\n', off == 0 ? 0 : off - 1);
			const size_t b = bol == std::string::npos ? 0 : bol + 1;
			if (b == off ? false : (text[b] == ' ' || text[b] == '\t' || text[b] == '#'))
				return false;
			return std::any_of(pf.skipped.begin(), pf.skipped.end(),
					   [&](const auto &r) { return off >= r.first && off < r.second; });
		};
		for (size_t off : at)
			if (skipped_definition(off)) {
				x.notes.push_back(rel + ":" + std::to_string(line_of(text, off)) + ": " + n +
						  " is in a block the preprocessor skips under the shim's configuration "
						  "(#if/#ifdef): not taken" +
						  (by_name.count(n)
							   ? " (the one at line " + std::to_string(by_name.at(n)->line) + " is)"
							   : std::string()));
				break;
			}
	}
	for (bool grew = true; grew;) {
		grew = false;
		for (const auto &[n, caller] : std::map<std::string, std::string>(take_from_here))
			for (const auto &callee : by_name.at(n)->calls)
				if (by_name.count(callee) && !take_from_here.count(callee) && !opt.shim_symbols.count(callee) &&
				    std::find(opt.entry_points.begin(), opt.entry_points.end(), callee) ==
					    opt.entry_points.end()) {
					take_from_here[callee] = n;
					grew = true;
				}
	}
	for (const auto &d : pf.defs) {
		auto it = take_from_here.find(d.name);
		if (it == take_from_here.end())
			continue;
		extracted e;
		e.name = d.name;
		e.file = rel;
		e.line = d.line;
		e.end_line = d.end_line;
		const unsigned b = line_start(text, d.begin);
		e.text = text.substr(b, d.end - b);
		e.entry = it->second.empty();
		e.used_by = it->second;
		x.functions.push_back(std::move(e));
		missing.erase(d.name);
	}
}

} // namespace

std::set<std::string> shim_symbols(const std::vector<std::string> &include_dirs)
{
	std::set<std::string> names;
	std::string prelude;
	for (const auto &d : include_dirs) {
		std::error_code ec;
		for (auto it = fs::recursive_directory_iterator(d, ec); !ec && it != fs::recursive_directory_iterator();
		     it.increment(ec))
			if (it->is_regular_file(ec) && it->path().extension() == ".h")
				prelude += "#include \"" + it->path().lexically_relative(d).string() + "\"\n";
	}
	index_ptr index = new_index();
	const std::string path = "/buddycheck-intake/shim-symbols.c";
	tu_ptr tu =
		parse(index.get(), path, prelude, parse_args(include_dirs, {}), CXTranslationUnit_DetailedPreprocessingRecord);
	if (!tu)
		return names;
	clang_visitChildren(
		clang_getTranslationUnitCursor(tu.get()),
		[](CXCursor c, CXCursor, CXClientData d) {
			switch (clang_getCursorKind(c)) {
			case CXCursor_FunctionDecl:
			case CXCursor_MacroDefinition:
			case CXCursor_TypedefDecl:
			case CXCursor_VarDecl:
			case CXCursor_EnumConstantDecl:
				static_cast<std::set<std::string> *>(d)->insert(take(clang_getCursorSpelling(c)));
				break;
			case CXCursor_EnumDecl:
				return CXChildVisit_Recurse;
			default:
				break;
			}
			return CXChildVisit_Continue;
		},
		&names);
	return names;
}

extraction extract_family(const fs::path &tree, const extract_options &opt)
{
	extraction x;
	std::error_code ec;
	if (!fs::is_directory(tree, ec)) {
		x.error = tree.string() + ": " + (fs::exists(tree, ec) ? "not a directory" : "no such directory");
		return x;
	}
	if (source_of(tree, opt, "mm/page_alloc.c").empty()) {
		x.error = tree.string() + ": not a kernel source tree (no mm/page_alloc.c)";
		return x;
	}
	// Where the kernel keeps the family, then anything else that names it.
	std::vector<std::string> order = {"mm/page_alloc.c", "include/linux/mm.h", "mm/vmalloc.c", "mm/internal.h"};
	for (const auto &f : files_in(tree, opt, "mm", {".c", ".h"}))
		if (std::find(order.begin(), order.end(), f) == order.end())
			order.push_back(f);
	for (const auto &f : files_in(tree, opt, "include/linux", {".h"}))
		if (std::find(order.begin(), order.end(), f) == order.end())
			order.push_back(f);

	std::set<std::string> missing(opt.entry_points.begin(), opt.entry_points.end());
	const std::vector<std::string> args = parse_args(opt.include_dirs, opt.extra_args);
	index_ptr index = new_index();
	for (const auto &rel : order) {
		if (missing.empty())
			break;
		const fs::path file = source_of(tree, opt, rel);
		if (file.empty())
			continue;
		const std::string text = slurp(file);
		take_from_file(index.get(), rel, text, args, opt, missing, x);
	}
	return x;
}

extraction extract_from_text(const std::string &rel, const std::string &text, const extract_options &opt)
{
	extraction x;
	std::set<std::string> missing(opt.entry_points.begin(), opt.entry_points.end());
	index_ptr index = new_index();
	take_from_file(index.get(), rel, text, parse_args(opt.include_dirs, opt.extra_args), opt, missing, x);
	return x;
}

} // namespace bc::intake
