#include "recipe.hpp"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

fs::path self_dir() { return self_path().parent_path(); }

std::vector<std::string> strings(const nlohmann::json &j, const char *key, const std::string &prefix)
{
	std::vector<std::string> v;
	if (!j.contains(key))
		return v;
	for (const auto &x : j.at(key)) {
		std::string s = x.get<std::string>();
		if (s.rfind("@PREFIX@", 0) == 0)
			s = prefix + s.substr(8);
		if (!s.empty())
			v.push_back(s);
	}
	return v;
}

toolchain load()
{
	fs::path file;
	std::error_code ec;
	if (const char *e = std::getenv("BUDDYCHECK_RECIPES"); e && *e)
		file = e;
	else if (fs::is_regular_file(self_dir() / "buddycheck-recipes.json", ec))
		file = self_dir() / "buddycheck-recipes.json";
	else
		file = self_dir().parent_path() / "share" / "buddycheck" / "recipes.json";
	std::ifstream in(file);
	if (!in)
		throw tool_failure{"cannot read its build recipes " + file.string() + " (rebuild or reinstall buddycheck)"};
	nlohmann::json j;
	try {
		j = nlohmann::json::parse(in);
	} catch (const std::exception &e) {
		throw tool_failure{"its build recipes " + file.string() + " do not parse: " + e.what()};
	}
	// An installed copy's paths are relative to its prefix: where the binary lies.
	const std::string prefix = self_dir().parent_path().string();
	auto path = [&](const char *key) {
		std::string s = j.value(key, std::string());
		if (s.rfind("@PREFIX@", 0) == 0)
			s = prefix + s.substr(8);
		return s;
	};
	toolchain t;
	t.file = file;
	t.version = j.value("version", std::string());
	t.cc = path("cc");
	t.cxx = path("cxx");
	if (const char *e = std::getenv("BUDDYCHECK_CC"); e && *e)
		t.cc = e;
	if (const char *e = std::getenv("BUDDYCHECK_CXX"); e && *e)
		t.cxx = e;
	t.includes = strings(j, "includes", prefix);
	t.data_dir = path("data_dir");
	if (const char *e = std::getenv("BUDDYCHECK_SOURCE_DIR"); e && *e)
		t.data_dir = e; // the tests' stand-in trees
	t.proofs = path("proofs");
	t.candidate_proofs = path("candidate_proofs");
	t.bench_binary = path("bench_binary");
	for (const auto &[name, r] : j.at("recipes").items()) {
		recipe x;
		x.cflags = strings(r, "cflags", prefix);
		x.ldflags = strings(r, "ldflags", prefix);
		x.libs = strings(r, "libs", prefix);
		x.runtime_libs = strings(r, "runtime_libs", prefix);
		t.recipes[name] = x;
	}
	const auto &fr = j.at("fuzz_runtime");
	std::string src = fr.value("source_dir", std::string());
	if (src.rfind("@PREFIX@", 0) == 0)
		src = prefix + src.substr(8);
	t.fuzz_source_dir = src;
	t.fuzz_cmake_args = strings(fr, "cmake_args", prefix);
	t.fuzz_targets = strings(fr, "targets", prefix);
	return t;
}

} // namespace

// The running binary, also after it was rebuilt under it (" (deleted)").
fs::path self_path()
{
	std::error_code ec;
	std::string p = fs::read_symlink("/proc/self/exe", ec).string();
	const std::string deleted = " (deleted)"; // rebuilt while it runs
	if (p.size() > deleted.size() && p.compare(p.size() - deleted.size(), deleted.size(), deleted) == 0)
		p.resize(p.size() - deleted.size());
	return ec ? fs::current_path() / "buddycheck" : fs::path(p);
}

const toolchain &load_toolchain()
{
	static const toolchain t = load();
	return t;
}

} // namespace bc::cli
