#include "candidate.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#ifndef BUDDYCHECK_SOURCE_DIR
#define BUDDYCHECK_SOURCE_DIR "."
#endif
#ifndef BUDDYCHECK_SHIM_LIB
#define BUDDYCHECK_SHIM_LIB ""
#endif
#ifndef BUDDYCHECK_RUNNER_LIB
#define BUDDYCHECK_RUNNER_LIB ""
#endif
#ifndef BUDDYCHECK_REFERENCE_LIB
#define BUDDYCHECK_REFERENCE_LIB ""
#endif
#ifndef BUDDYCHECK_PROPERTIES_LIB
#define BUDDYCHECK_PROPERTIES_LIB ""
#endif
#ifndef BUDDYCHECK_RAPIDCHECK_LIB
#define BUDDYCHECK_RAPIDCHECK_LIB ""
#endif
#ifndef BUDDYCHECK_BENCH_LIB // no Google Benchmark in this build
#define BUDDYCHECK_BENCH_LIB ""
#define BUDDYCHECK_BENCH_MAIN_LIB ""
#define BUDDYCHECK_BENCHMARK_LIB ""
#endif

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

// The source with comments, string and character literals blanked out.
static std::string code_only(const std::string &s)
{
	std::string o = s;
	for (size_t i = 0; i < o.size(); i++) {
		if (o[i] == '/' && i + 1 < o.size() && o[i + 1] == '/') {
			while (i < o.size() && o[i] != '\n')
				o[i++] = ' ';
		} else if (o[i] == '/' && i + 1 < o.size() && o[i + 1] == '*') {
			o[i] = o[i + 1] = ' ';
			for (i += 2; i < o.size() && !(o[i] == '*' && i + 1 < o.size() && o[i + 1] == '/'); i++)
				if (o[i] != '\n')
					o[i] = ' ';
			if (i < o.size())
				o[i] = o[i + 1] = ' ';
			i++;
		} else if (o[i] == '"' || o[i] == '\'') {
			char q = o[i];
			for (i++; i < o.size() && o[i] != q; i++) {
				if (o[i] == '\\')
					o[i++] = ' ';
				if (i < o.size() && o[i] != '\n')
					o[i] = ' ';
			}
		}
	}
	return o;
}

static bool ident_char(char c) { return std::isalnum((unsigned char)c) || c == '_'; }

std::vector<std::string> defined_entry_points(const std::string &source)
{
	const std::string code = code_only(source);
	std::vector<std::string> found;
	for (const auto &name : entry_point_names()) {
		for (size_t pos = code.find(name); pos != std::string::npos; pos = code.find(name, pos + 1)) {
			if (pos > 0 && ident_char(code[pos - 1]))
				continue;
			size_t i = pos + name.size();
			if (i < code.size() && ident_char(code[i]))
				continue;
			while (i < code.size() && std::isspace((unsigned char)code[i]))
				i++;
			if (i >= code.size() || code[i] != '(')
				continue;
			int depth = 0;
			for (; i < code.size(); i++) {
				if (code[i] == '(')
					depth++;
				else if (code[i] == ')' && --depth == 0)
					break;
			}
			for (i++; i < code.size() && std::isspace((unsigned char)code[i]); i++)
				;
			if (i < code.size() && code[i] == '{') { // a definition, not a call or declaration
				found.push_back(name);
				break;
			}
		}
	}
	return found;
}

fs::path source_dir()
{
	if (const char *e = std::getenv("BUDDYCHECK_SOURCE_DIR"))
		return e;
	return BUDDYCHECK_SOURCE_DIR;
}

fs::path cache_dir()
{
	if (const char *e = std::getenv("BUDDYCHECK_CACHE_DIR"))
		return e;
	if (const char *x = std::getenv("XDG_CACHE_HOME"))
		return fs::path(x) / "buddycheck";
	if (const char *h = std::getenv("HOME"))
		return fs::path(h) / ".cache" / "buddycheck";
	return fs::temp_directory_path() / "buddycheck-cache";
}

fs::path resolve_candidate(const std::string &name)
{
	std::error_code ec;
	if (fs::is_regular_file(name, ec))
		return name;
	const fs::path dir = source_dir() / "reference" / "candidates";
	for (const fs::path &p : {dir / name, dir / (name + ".c")})
		if (name.find('/') == std::string::npos && fs::is_regular_file(p, ec))
			return p;
	return name;
}

static std::string read_file(const fs::path &p)
{
	std::ifstream in(p, std::ios::binary);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

static uint64_t fnv1a(const std::string &s, uint64_t h = 0xcbf29ce484222325ULL)
{
	for (unsigned char c : s) {
		h ^= c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static std::string quote(const std::string &s)
{
	std::string q = "'";
	for (char c : s)
		q += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return q + "'";
}

// A fingerprint of everything a build depends on besides the candidate:
// the libraries it links (path, size, time) and the kernel shim's sources.
static std::string toolchain_fingerprint(const std::vector<std::string> &libs)
{
	std::string f;
	std::error_code ec;
	for (const fs::path p : libs)
		f += p.string() + std::to_string(fs::file_size(p, ec)) + std::to_string(fs::last_write_time(p, ec).time_since_epoch().count());
	for (const auto &e : fs::recursive_directory_iterator(source_dir() / "reference" / "kernel", ec))
		if (e.is_regular_file(ec))
			f += read_file(e.path());
	f += read_file(source_dir() / "reference" / "include" / "buddycheck" / "page.h");
	return f;
}

std::string make_wrapper(const fs::path &candidate, const std::string &source)
{
	const std::vector<std::string> defined = defined_entry_points(source);
	std::ostringstream w;
	w << "/* generated by buddycheck: includes the candidate unmodified */\n";
	// The shim declares only the entry points the candidate does not
	// define, so that the candidate may define any of them static.
	for (const auto &d : defined)
		w << "#define BC_CANDIDATE_DEFINES_" << d << " 1\n";
	w << "#include " << '"' << candidate.string() << '"' << "\n";
	w << "#include <buddycheck_candidate.h>\n";
	w << "const struct bc_candidate_entry_points bc_candidate = {\n";
	w << "\t.name = \"" << candidate.filename().string() << "\",\n";
	for (const auto &d : defined)
		w << "\t." << d << " = " << d << ",\n";
	w << "};\n";
	return w.str();
}

// The include paths of every candidate build.
static std::string candidate_includes()
{
	const fs::path src = source_dir();
	return " -I" + quote((src / "reference/kernel/include").string()) + " -I" + quote((src / "reference/include").string()) +
	       " -I" + quote((src / "reference/kernel/mm").string());
}

// One cached build of a candidate: its wrapper compiled with cflags, linked
// with ldflags and libs into cache_dir()/STEM[-tag]-KEY/binary, KEY a hash
// of the wrapper, the source, the flags and fingerprint.  A failed build
// leaves nothing in the cache.
struct build_recipe {
	std::string tag, binary, cflags, ldflags;
	std::vector<std::string> libs;
	std::string fingerprint;
};

static build_result build_cached(const fs::path &candidate_in, const build_recipe &rc)
{
	build_result r;
	std::error_code ec;
	const fs::path candidate = fs::absolute(candidate_in, ec);
	if (!fs::is_regular_file(candidate, ec)) {
		r.compiler_output = candidate_in.string() + ": no such file";
		return r;
	}
	const std::string source = read_file(candidate);
	const std::string wrapper = make_wrapper(candidate, source);
	std::string link_line = rc.ldflags;
	for (const auto &l : rc.libs)
		link_line += " " + quote(l);
	const uint64_t key = fnv1a(wrapper + source + rc.cflags + link_line + rc.fingerprint);
	char keyhex[32];
	std::snprintf(keyhex, sizeof keyhex, "%016llx", (unsigned long long)key);
	const fs::path dir = cache_dir() / (candidate.stem().string() + (rc.tag.empty() ? "" : "-" + rc.tag) + "-" + keyhex);
	r.runner = dir / rc.binary;
	if (fs::exists(r.runner, ec)) {
		r.ok = r.cached = true;
		return r;
	}
	fs::create_directories(dir, ec);
	if (ec) {
		r.compiler_output = "cannot create the build cache " + dir.string() + ": " + ec.message();
		return r;
	}
	std::ofstream(dir / "wrapper.c") << wrapper;
	const fs::path log = dir / "compile.log";
	const std::string cc = std::getenv("BUDDYCHECK_CC") ? std::getenv("BUDDYCHECK_CC") : "clang-14";
	const std::string cxx = std::getenv("BUDDYCHECK_CXX") ? std::getenv("BUDDYCHECK_CXX") : "clang++-14";
	const std::string compile = cc + " " + rc.cflags + " -c " + quote((dir / "wrapper.c").string()) + " -o " +
				    quote((dir / "wrapper.o").string()) + " > " + quote(log.string()) + " 2>&1";
	const std::string link = cxx + " " + quote((dir / "wrapper.o").string()) + " " + link_line + " -o " +
				 quote((dir / "tmp").string()) + " >> " + quote(log.string()) + " 2>&1";
	if (std::system(compile.c_str()) != 0 || std::system(link.c_str()) != 0) {
		r.compiler_output = read_file(log);
		if (r.compiler_output.empty())
			r.compiler_output = "the compiler (" + cc + ") could not be run";
		fs::remove_all(dir, ec); // never cache a failed build
		return r;
	}
	fs::rename(dir / "tmp", r.runner, ec);
	r.compiler_output = read_file(log);
	r.ok = !ec;
	return r;
}

build_result build_candidate(const fs::path &candidate)
{
	build_recipe rc;
	rc.binary = "runner";
	rc.cflags = "-std=gnu11 -Wall -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined "
		    "-fno-omit-frame-pointer -Werror=implicit-function-declaration -Werror=incompatible-pointer-types" +
		    candidate_includes();
	rc.ldflags = "-fsanitize=address,undefined";
	rc.libs = {BUDDYCHECK_RUNNER_LIB, BUDDYCHECK_PROPERTIES_LIB, BUDDYCHECK_SHIM_LIB, BUDDYCHECK_REFERENCE_LIB,
		   BUDDYCHECK_RAPIDCHECK_LIB};
	rc.fingerprint = toolchain_fingerprint(rc.libs);
	return build_cached(candidate, rc);
}

build_result build_bench(const fs::path &candidate)
{
	build_result r;
	if (!*BUDDYCHECK_BENCH_LIB) {
		r.compiler_output = "buddycheck: this build has no benchmark (Google Benchmark was not found)\n";
		return r;
	}
	build_recipe rc;
	rc.tag = "bench";
	rc.binary = "bench";
	// What the kernel would be built with: optimized, no instrumentation,
	// so that the wall figures compare like with like (the libraries come
	// from the default preset, g++ -O2).
	rc.cflags = "-std=gnu11 -Wall -g -O2 -Werror=implicit-function-declaration -Werror=incompatible-pointer-types" +
		    candidate_includes();
	rc.ldflags = "-pthread";
	rc.libs = {BUDDYCHECK_BENCH_MAIN_LIB, BUDDYCHECK_BENCH_LIB, BUDDYCHECK_SHIM_LIB, BUDDYCHECK_REFERENCE_LIB,
		   BUDDYCHECK_BENCHMARK_LIB};
	rc.fingerprint = toolchain_fingerprint(rc.libs);
	return build_cached(candidate, rc);
}

// Builds (once; ninja makes later calls no-ops) what every candidate's
// fuzzers link: the model, the shim and the harnesses, instrumented for
// libFuzzer, in the source tree's build/fuzz (the `fuzz` preset).
static bool build_fuzz_runtime(std::string &log_text)
{
	static int state = -1;
	if (state >= 0)
		return state;
	const fs::path src = source_dir();
	const fs::path log = cache_dir() / "fuzz-runtime-build.log";
	std::error_code ec;
	fs::create_directories(cache_dir(), ec);
	std::string cmd = "cd " + quote(src.string()) + " && { [ -f build/fuzz/build.ninja ] || cmake --preset fuzz; } > " +
			  quote(log.string()) + " 2>&1 && cmake --build --preset fuzz --target buddycheck_reference "
			  "buddycheck_kernel_shim fuzz_harness_differential fuzz_harness_bulk >> " + quote(log.string()) + " 2>&1";
	state = std::system(cmd.c_str()) == 0;
	if (!state)
		log_text = read_file(log);
	return state;
}

build_result build_fuzzer(const fs::path &candidate, const std::string &target)
{
	build_result r;
	if (!build_fuzz_runtime(r.compiler_output)) {
		r.compiler_output += "\nbuddycheck: building the fuzz runtime (cmake --preset fuzz) failed";
		return r;
	}
	const fs::path fz = source_dir() / "build" / "fuzz";
	build_recipe rc;
	rc.tag = target + "-fuzz";
	rc.binary = target + "_fuzzer";
	rc.cflags = "-std=gnu11 -Wall -g -O1 -fsanitize=fuzzer-no-link,address,undefined "
		    "-fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-unused-function" +
		    candidate_includes();
	rc.ldflags = "-fsanitize=fuzzer,address,undefined";
	rc.libs = {(fz / "fuzz" / ("libfuzz_harness_" + target + ".a")).string(),
		   (fz / "reference" / "libbuddycheck_kernel_shim.a").string(),
		   (fz / "reference" / "libbuddycheck_reference.a").string()};
	rc.fingerprint = toolchain_fingerprint(rc.libs);
	return build_cached(candidate, rc);
}

} // namespace bc::cli
