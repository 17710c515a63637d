#include "candidate.hpp"

#include "buddycheck/files.hpp"

#include "cache.hpp"
#include "process.hpp"
#include "recipe.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string_view>

namespace fs = std::filesystem;

namespace bc::cli {

const std::vector<std::string> &entry_point_names()
{
	static const std::vector<std::string> n = {
		"free_prepared_contig_range", "__free_contig_range_common", "__free_contig_range",
		"__free_contig_frozen_range", "free_contig_range",          "free_contig_frozen_range",
		"free_pages_bulk",            "num_pages_contiguous",
	};
	return n;
}

namespace {

// The source with comments, string and character literals and preprocessor
// lines blanked out (newlines kept, so that offsets keep their lines).
std::string code_only(const std::string &s)
{
	std::string o = s;
	bool line_start = true;
	for (size_t i = 0; i < o.size(); i++) {
		if (o[i] == '\n') {
			line_start = true;
			continue;
		}
		if (line_start && o[i] == '#') {
			// A directive, with its continuation lines.
			while (i < o.size() && o[i] != '\n') {
				if (o[i] == '\\' && i + 1 < o.size() && o[i + 1] == '\n')
					o[i++] = ' ';
				else
					o[i++] = ' ';
			}
			i--;
			continue;
		}
		if (!std::isspace((unsigned char)o[i]))
			line_start = false;
		if (o[i] == '/' && i + 1 < o.size() && o[i + 1] == '/') {
			while (i < o.size() && o[i] != '\n')
				o[i++] = ' ';
			i--;
		} else if (o[i] == '/' && i + 1 < o.size() && o[i + 1] == '*') {
			o[i] = o[i + 1] = ' ';
			for (i += 2; i < o.size() && !(o[i] == '*' && i + 1 < o.size() && o[i + 1] == '/'); i++)
				if (o[i] != '\n')
					o[i] = ' ';
			if (i + 1 < o.size())
				o[i] = o[i + 1] = ' ', i++;
		} else if (o[i] == '"' || o[i] == '\'') {
			const char q = o[i];
			for (i++; i < o.size() && o[i] != q && o[i] != '\n'; i++) {
				if (o[i] == '\\' && i + 1 < o.size())
					o[i++] = ' ';
				o[i] = ' ';
			}
		}
	}
	return o;
}

bool ident_start(char c) { return std::isalpha((unsigned char)c) || c == '_'; }
bool ident_char(char c) { return std::isalnum((unsigned char)c) || c == '_'; }

size_t edit_distance(const std::string &a, const std::string &b)
{
	std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
	for (size_t j = 0; j <= b.size(); j++)
		prev[j] = j;
	for (size_t i = 1; i <= a.size(); i++) {
		cur[0] = i;
		for (size_t j = 1; j <= b.size(); j++)
			cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
		std::swap(prev, cur);
	}
	return prev[b.size()];
}

// The first byte that makes DATA not C source text (NUL or another control
// byte), or npos.
size_t binary_byte(const std::string &data)
{
	for (size_t i = 0; i < data.size(); i++) {
		const unsigned char c = data[i];
		if (c < 0x20 && c != '\n' && c != '\t' && c != '\r' && c != '\f' && c != '\v')
			return i;
	}
	return std::string::npos;
}

// What a compiler is: the file it resolves to (through PATH and symlinks),
// its size and time: an upgrade is a new key, without running it.
std::string compiler_identity(const std::string &cc)
{
	static std::mutex mu;
	static std::map<std::string, std::string> known;
	std::lock_guard<std::mutex> lock(mu);
	if (auto it = known.find(cc); it != known.end())
		return it->second;
	std::error_code ec;
	fs::path found;
	if (cc.find('/') != std::string::npos)
		found = cc;
	else if (const char *path = std::getenv("PATH"))
		for (std::string_view rest = path; !rest.empty() && found.empty();) {
			const size_t colon = rest.find(':');
			const fs::path dir(std::string(rest.substr(0, colon)));
			if (!dir.empty() && access((dir / cc).c_str(), X_OK) == 0)
				found = dir / cc;
			rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
		}
	const fs::path real = found.empty() ? fs::path() : fs::canonical(found, ec);
	if (found.empty() || ec || access(real.c_str(), X_OK) != 0)
		throw tool_failure{"the candidate compiler " + cc + " is not there (ci/setup installs clang-14; $BUDDYCHECK_CC picks another)"};
	const auto size = fs::file_size(real, ec);
	const auto t = fs::last_write_time(real, ec).time_since_epoch().count();
	return known[cc] = cc + " = " + real.string() + " " + std::to_string(size) + " " + std::to_string(t);
}

std::string file_identity(const std::string &p)
{
	std::error_code ec;
	const auto size = fs::file_size(p, ec);
	const auto t = fs::last_write_time(p, ec).time_since_epoch().count();
	return p + " " + std::to_string(ec ? 0 : size) + " " + std::to_string(ec ? 0 : t);
}

// The kernel shim's headers (every include directory of the recipe).
std::string includes_fingerprint(const toolchain &t)
{
	static std::mutex mu; // buddycheck mutate builds from several threads
	std::lock_guard<std::mutex> lock(mu);
	static std::string f;
	if (!f.empty())
		return f;
	std::error_code ec;
	std::vector<fs::path> files;
	for (const auto &dir : t.includes)
		for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
			if (it->is_regular_file(ec))
				files.push_back(it->path());
	std::sort(files.begin(), files.end());
	std::string all;
	for (const auto &p : files)
		all += p.string() + "\n" + slurp(p);
	return f = hash_hex(all);
}

// Headers the candidate includes with "...", found beside it (recursively):
// an edit to one of them is a new build.
void local_headers(const fs::path &file, const std::string &text, std::set<fs::path> &seen, std::string &out)
{
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);) {
		size_t p = line.find_first_not_of(" \t");
		if (p == std::string::npos || line[p] != '#')
			continue;
		p = line.find("include", p);
		if (p == std::string::npos)
			continue;
		const size_t q = line.find('"', p);
		const size_t r = q == std::string::npos ? q : line.find('"', q + 1);
		if (r == std::string::npos)
			continue;
		std::error_code ec;
		const fs::path h = fs::weakly_canonical(file.parent_path() / line.substr(q + 1, r - q - 1), ec);
		if (ec || !fs::is_regular_file(h, ec) || !seen.insert(h).second || seen.size() > 200)
			continue;
		const std::string ht = slurp(h);
		out += "header " + h.string() + " " + hash_hex(ht) + "\n";
		local_headers(h, ht, seen, out);
	}
}

// The wrapper's errors when the candidate compiles alone: an entry point
// of another type than the family's.  Said at the candidate's line.
std::string wrapper_errors(const candidate_source &c, const std::string &wrapper, const std::string &log)
{
	std::vector<std::string> wlines;
	std::istringstream w(wrapper);
	for (std::string l; std::getline(w, l);)
		wlines.push_back(l);
	std::string out;
	std::istringstream in(log);
	for (std::string line; std::getline(in, line);) {
		const size_t at = line.find("wrapper.c:");
		const size_t err = line.find(": error: ");
		if (at == std::string::npos || err == std::string::npos)
			continue;
		const int wl = std::atoi(line.c_str() + at + 10);
		std::string name;
		if (wl >= 1 && size_t(wl) <= wlines.size())
			for (const auto &d : c.defined)
				if (wlines[wl - 1].find("\t." + d.name + " = ") == 0) {
					out += c.file.string() + ":" + std::to_string(d.line) + ": error: " + d.name +
					       " does not have the family's type (reference/kernel/include/buddycheck_candidate.h): " +
					       line.substr(err + 9) + "\n";
					name = d.name;
				}
		if (name.empty())
			out += line + "\n";
	}
	return out.empty() ? log : out;
}

build_result tool_error(const std::string &what)
{
	build_result r;
	r.status = build_result::tool_error;
	r.output = what;
	return r;
}

// Builds the wrapper of C with RECIPE into the cache (entry NAME), linked
// with LIBS.
build_result build_with(const candidate_source &c, const std::string &entry_name, const std::string &binary,
			const recipe &rc, const std::vector<std::string> &libs)
{
	const toolchain &t = load_toolchain();
	std::vector<std::string> cflags = rc.cflags;
	for (const auto &inc : t.includes)
		cflags.push_back("-I" + inc);
	const std::string wrapper = make_wrapper(c.file, c.text);
	std::string stamp = "buddycheck-build 1\nbuddycheck " + t.version + " " + t.file.string() + "\n";
	stamp += "cc " + compiler_identity(t.cc) + "\ncxx " + compiler_identity(t.cxx) + "\n";
	stamp += "cflags " + shell_line(cflags) + "\nldflags " + shell_line(rc.ldflags) + "\n";
	for (const auto &l : libs)
		stamp += "lib " + file_identity(l) + "\n";
	stamp += "shim " + includes_fingerprint(t) + "\n";
	stamp += "source " + c.file.string() + " " + hash_hex(c.text) + "\n";
	std::set<fs::path> seen;
	local_headers(c.file, c.text, seen, stamp);
	stamp += "wrapper " + hash_hex(wrapper) + "\n";

	build_result r;
	bool compile_failed = false;
	std::string runtime_mismatch;
	const cache_lookup l = cache_get(c.file.stem().string() + "-" + entry_name, stamp, [&](const fs::path &tmp, std::string &log) {
		std::ofstream(tmp / "wrapper.c") << wrapper;
		auto run = [&](std::vector<std::string> argv, const fs::path &out) {
			child_spec s;
			s.argv = std::move(argv);
			s.stdout_file = out;
			s.stderr_to_stdout = true;
			s.lim = {600, 8ull << 30};
			child_outcome o = run_child(s);
			if (o.k == child_outcome::spawn_failed)
				throw tool_failure{"cannot run the compiler: " + o.error};
			return o;
		};
		std::vector<std::string> cc = {t.cc};
		cc.insert(cc.end(), cflags.begin(), cflags.end());
		std::vector<std::string> compile = cc;
		for (const std::string &a : {std::string("-c"), (tmp / "wrapper.c").string(), std::string("-o"), (tmp / "wrapper.o").string()})
			compile.push_back(a);
		child_outcome o = run(compile, tmp / "compile.log");
		if (!o.ok()) {
			compile_failed = true;
			// Say it in terms of the user's file: its own messages when it
			// does not compile alone, else its entry points do not fit.
			std::vector<std::string> alone = cc;
			for (const auto &d : c.defined)
				alone.push_back("-DBC_CANDIDATE_DEFINES_" + d.name + "=1");
			alone.push_back("-fsyntax-only");
			alone.push_back("-xc");
			alone.push_back(c.file.string());
			const child_outcome a = run(alone, tmp / "alone.log");
			log = a.ok() ? wrapper_errors(c, wrapper, slurp(tmp / "compile.log")) : slurp(tmp / "alone.log");
			if (o.k == child_outcome::timeout || o.k == child_outcome::oom)
				log += "buddycheck: the compiler " + o.describe() + "\n";
			return false;
		}
		std::vector<std::string> link = {t.cxx, (tmp / "wrapper.o").string()};
		link.insert(link.end(), rc.ldflags.begin(), rc.ldflags.end());
		link.insert(link.end(), libs.begin(), libs.end());
		link.push_back("-o");
		link.push_back((tmp / binary).string());
		o = run(link, tmp / "link.log");
		log = slurp(tmp / "compile.log") + slurp(tmp / "link.log");
		if (!o.ok()) {
			// The shim's own symbols missing: buddycheck's headers and its
			// runtime libraries are of different builds, not a fault of
			// the candidate.
			const std::string l = slurp(tmp / "link.log");
			if (const size_t at = l.find("undefined reference to `bc_"); at != std::string::npos) {
				runtime_mismatch =
					"the candidate does not link with buddycheck's runtime (" +
					l.substr(at, l.find('\n', at) - at) +
					"): its shim headers and libraries are of different builds; rebuild buddycheck";
				return false;
			}
			compile_failed = true;
			return false;
		}
		return true;
	});
	if (!l.error.empty())
		return tool_error(l.error);
	if (!runtime_mismatch.empty())
		return tool_error(runtime_mismatch);
	r.output = l.log;
	if (!l.ok) {
		r.status = compile_failed ? build_result::compile_error : build_result::tool_error;
		return r;
	}
	r.status = build_result::ok;
	r.binary = l.dir / binary;
	r.cached = !l.built;
	return r;
}

// A hash of the sources the fuzz runtime is built from.
std::string runtime_sources_hash(const fs::path &src)
{
	std::vector<fs::path> files;
	std::error_code ec;
	for (const char *sub : {"reference", "fuzz", "properties", "proofs"})
		for (auto it = fs::recursive_directory_iterator(src / sub, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
			if (it->is_regular_file(ec))
				files.push_back(it->path());
	files.push_back(src / "CMakeLists.txt");
	std::sort(files.begin(), files.end());
	std::string all;
	for (const auto &p : files)
		all += p.lexically_relative(src).string() + "\n" + slurp(p);
	return hash_hex(all);
}

// The model, shim and harnesses instrumented for libFuzzer: a cache entry
// with lib/<relative path of each library>.  Looked up once per process
// (every candidate's two fuzzers link the same one).
build_result fuzz_runtime_lookup();
build_result fuzz_runtime()
{
	static const build_result r = fuzz_runtime_lookup();
	return r;
}

build_result fuzz_runtime_lookup()
{
	const toolchain &t = load_toolchain();
	const fs::path src = t.fuzz_source_dir;
	std::error_code ec;
	if (!fs::is_regular_file(src / "CMakeLists.txt", ec))
		return tool_error("buddycheck: the fuzz runtime's sources are missing (" + src.string() + ")");
	std::set<std::string> libs;
	for (const auto &[name, rc] : t.recipes)
		for (const auto &l : rc.runtime_libs)
			libs.insert(l);
	std::string stamp = "buddycheck-fuzz-runtime 1\ncc " + compiler_identity(t.cc) + "\ncxx " + compiler_identity(t.cxx) +
			    "\nargs " + shell_line(t.fuzz_cmake_args) + "\nsources " + runtime_sources_hash(src) + "\n";
	bool failed_build = false;
	const cache_lookup l = cache_get("fuzz-runtime", stamp, [&](const fs::path &tmp, std::string &log) {
		const fs::path b = tmp / "build";
		std::vector<std::string> configure = {"cmake", "-S", src.string(), "-B", b.string(), "-DCMAKE_C_COMPILER=" + t.cc,
						      "-DCMAKE_CXX_COMPILER=" + t.cxx};
		configure.insert(configure.end(), t.fuzz_cmake_args.begin(), t.fuzz_cmake_args.end());
		std::vector<std::string> build = {"cmake", "--build", b.string(), "--target"};
		build.insert(build.end(), t.fuzz_targets.begin(), t.fuzz_targets.end());
		for (const auto &argv : {configure, build}) {
			child_spec s;
			s.argv = argv;
			s.stdout_file = tmp / "build.log.part";
			s.stderr_to_stdout = true;
			s.lim = {1800, 12ull << 30};
			const child_outcome o = run_child(s);
			log += slurp(tmp / "build.log.part");
			if (!o.ok()) {
				log += "buddycheck: " + shell_line(argv) + ": " + o.describe() + "\n";
				failed_build = true;
				return false;
			}
		}
		for (const auto &lib : libs) {
			fs::create_directories((tmp / "lib" / lib).parent_path(), ec);
			fs::copy_file(b / lib, tmp / "lib" / lib, ec);
			if (ec) {
				log += "buddycheck: the fuzz runtime's build made no " + lib + ": " + ec.message() + "\n";
				failed_build = true;
				return false;
			}
		}
		std::ofstream(tmp / "build.log") << log;
		fs::remove_all(b, ec); // the libraries are all that is kept
		fs::remove(tmp / "build.log.part", ec);
		return true;
	});
	if (!l.error.empty())
		return tool_error(l.error);
	if (!l.ok)
		return tool_error(l.log + "buddycheck: building the fuzz runtime failed (its own failure, not the candidate's)");
	build_result r;
	r.status = build_result::ok;
	r.binary = l.dir / "lib";
	r.cached = !l.built;
	return r;
}

} // namespace

std::vector<definition> function_definitions(const std::string &source)
{
	const std::string code = code_only(source);
	std::vector<definition> found;
	int depth = 0, line = 1;
	for (size_t i = 0; i < code.size(); i++) {
		const char ch = code[i];
		if (ch == '\n')
			line++;
		else if (ch == '{')
			depth++;
		else if (ch == '}')
			depth = std::max(0, depth - 1);
		if (depth != 0 || !ident_start(ch) || (i > 0 && ident_char(code[i - 1])))
			continue;
		size_t j = i;
		while (j < code.size() && ident_char(code[j]))
			j++;
		const std::string name = code.substr(i, j - i);
		const int name_line = line;
		size_t k = j;
		while (k < code.size() && std::isspace((unsigned char)code[k]))
			k++;
		if (k < code.size() && code[k] == '(') {
			int pd = 0;
			for (; k < code.size(); k++) {
				if (code[k] == '(')
					pd++;
				else if (code[k] == ')' && --pd == 0)
					break;
			}
			for (k++; k < code.size() && std::isspace((unsigned char)code[k]); k++)
				;
			if (k < code.size() && code[k] == '{')
				found.push_back({name, name_line});
		}
		i = j - 1; // on after the identifier (lines are counted as the scan moves on)
	}
	return found;
}

std::vector<definition> defined_entry_points(const std::string &source)
{
	std::vector<definition> out;
	const auto all = function_definitions(source);
	for (const auto &name : entry_point_names())
		for (const auto &d : all)
			if (d.name == name) {
				out.push_back(d);
				break;
			}
	return out;
}

candidate_source inspect_candidate(const std::string &arg)
{
	candidate_source c;
	std::error_code ec;
	fs::path p = arg;
	if (!fs::exists(p, ec) && arg.find('/') == std::string::npos) {
		// A built-in candidate by name.
		const fs::path dir = load_toolchain().data_dir / "reference" / "candidates";
		for (const fs::path &q : {dir / arg, dir / (arg + ".c")})
			if (fs::is_regular_file(q, ec)) {
				p = q;
				break;
			}
	}
	c.file = fs::absolute(p, ec).lexically_normal();
	if (!fs::exists(p, ec)) {
		c.error = arg + ": no such file (nor a built-in candidate of that name)";
		return c;
	}
	if (fs::is_directory(p, ec)) {
		c.error = arg + ": is a directory, not a C file";
		return c;
	}
	if (auto err = read_file(p, c.text)) {
		c.error = arg + ": " + *err;
		return c;
	}
	if (size_t at = binary_byte(c.text); at != std::string::npos) {
		char b[32];
		std::snprintf(b, sizeof b, "0x%02x", (unsigned char)c.text[at]);
		c.error = arg + ": not a C source file (byte " + b + " at offset " + std::to_string(at) + ")";
		return c;
	}
	c.defined = defined_entry_points(c.text);
	const auto &names = entry_point_names();
	for (const auto &d : function_definitions(c.text)) {
		if (std::find(names.begin(), names.end(), d.name) != names.end())
			continue;
		for (const auto &n : names)
			if (edit_distance(d.name, n) <= 2) {
				c.near_misses.push_back({d, n});
				break;
			}
	}
	if (c.defined.empty()) {
		std::string list;
		for (const auto &n : names)
			list += (list.empty() ? "" : ", ") + n;
		c.error = arg + ": defines none of the family's entry points (" + list + ")";
		for (const auto &[d, n] : c.near_misses)
			c.error += "; " + c.file.filename().string() + ":" + std::to_string(d.line) + ": " + d.name + " looks like " + n;
	}
	return c;
}

std::string make_wrapper(const fs::path &candidate, const std::string &source)
{
	const std::vector<definition> defined = defined_entry_points(source);
	std::ostringstream w;
	w << "/* generated by buddycheck: includes the candidate unmodified */\n";
	// The shim declares only the entry points the candidate does not
	// define, so that the candidate may define any of them static.
	for (const auto &d : defined)
		w << "#define BC_CANDIDATE_DEFINES_" << d.name << " 1\n";
	std::string inc = candidate.string();
	std::string escaped;
	for (char ch : inc)
		escaped += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
	w << "#include \"" << escaped << "\"\n";
	w << "#include <buddycheck_candidate.h>\n";
	w << "const struct bc_candidate_entry_points bc_candidate = {\n";
	w << "\t.name = \"" << candidate.filename().string() << "\",\n";
	for (const auto &d : defined)
		w << "\t." << d.name << " = " << d.name << ",\n";
	w << "};\n";
	return w.str();
}

std::vector<std::string> missing_symbols(const std::string &compiler_output)
{
	// clang's words for a name the shim lacks, and what it is.
	static const std::vector<std::pair<std::string, std::string>> kinds = {
		{"implicit declaration of function '", "function"},
		{"call to undeclared function '", "function"},
		{"use of undeclared identifier '", "identifier"},
		{"unknown type name '", "type"},
		{"no member named '", "member"},
		{"incomplete definition of type '", "type's definition"},
		{"variable has incomplete type '", "type's definition"},
	};
	std::vector<std::string> out;
	std::set<std::string> seen;
	std::istringstream in(compiler_output);
	for (std::string line; std::getline(in, line);) {
		const size_t err = line.find(": error: ");
		if (err == std::string::npos)
			continue;
		for (const auto &[words, what] : kinds) {
			const size_t w = line.find(words, err);
			if (w == std::string::npos)
				continue;
			const size_t b = w + words.size(), e = line.find('\'', b);
			if (e == std::string::npos)
				break;
			std::string sym = line.substr(b, e - b);
			if (what == "member") // "no member named 'x' in 'struct zone'"
				if (const size_t in_ = line.find(" in '", e); in_ != std::string::npos)
					sym = line.substr(in_ + 5, line.find('\'', in_ + 5) - in_ - 5) + "::" + sym;
			// "file:line:col" -> "file:line"
			std::string where = line.substr(0, err);
			if (const size_t c = where.rfind(':'); c != std::string::npos && c > where.find(':'))
				where = where.substr(0, c);
			if (seen.insert(sym).second)
				out.push_back(where + ": " + sym + ": a " + what + " buddycheck's kernel shim does not provide");
			break;
		}
	}
	return out;
}

std::string toolchain_fingerprint()
{
	const toolchain &t = load_toolchain();
	return "cc " + compiler_identity(t.cc) + "\nshim " + includes_fingerprint(t) + "\n";
}

int report_build_failure(const build_result &b, const std::string &name)
{
	std::fputs(b.output.c_str(), stderr);
	if (!b.output.empty() && b.output.back() != '\n')
		std::fputc('\n', stderr);
	if (b.status == build_result::compile_error) {
		for (const auto &m : missing_symbols(b.output))
			std::fprintf(stderr, "buddycheck: %s\n", m.c_str());
		std::fprintf(stderr, "buddycheck: %s does not compile\n", name.c_str());
		return 2;
	}
	std::fprintf(stderr, "buddycheck: cannot build %s (buddycheck's own failure)\n", name.c_str());
	return 3;
}

build_result build_candidate(const candidate_source &c, const std::string &recipe_name)
{
	const toolchain &t = load_toolchain();
	auto it = t.recipes.find(recipe_name);
	if (it == t.recipes.end() || it->second.libs.empty())
		return tool_error("buddycheck: this build has no '" + recipe_name + "' recipe" +
				  (recipe_name == "bench" ? " (Google Benchmark was not found)" : ""));
	return build_with(c, recipe_name, recipe_name == "bench" ? "bench" : "runner", it->second, it->second.libs);
}

build_result build_fuzzer(const candidate_source &c, const std::string &target)
{
	const toolchain &t = load_toolchain();
	auto it = t.recipes.find("fuzz-" + target);
	if (it == t.recipes.end())
		return tool_error("buddycheck: no fuzz recipe for target " + target);
	build_result rt = fuzz_runtime();
	if (rt.status != build_result::ok)
		return rt;
	std::vector<std::string> libs;
	for (const auto &l : it->second.runtime_libs)
		libs.push_back((rt.binary / l).string());
	return build_with(c, "fuzz-" + target, target + "_fuzzer", it->second, libs);
}

} // namespace bc::cli
