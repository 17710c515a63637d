#include "buddycheck/files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bc {

std::optional<std::string> read_file(const std::filesystem::path &p, std::string &out)
{
	out.clear();
	std::ifstream in(p, std::ios::binary);
	if (!in)
		return std::string("cannot open: ") + std::strerror(errno);
	std::stringstream ss;
	ss << in.rdbuf();
	if (in.bad())
		return std::string("cannot read: ") + std::strerror(errno);
	out = ss.str();
	return std::nullopt;
}

std::string slurp(const std::filesystem::path &p)
{
	std::string s;
	(void)read_file(p, s);
	return s;
}

} // namespace bc
