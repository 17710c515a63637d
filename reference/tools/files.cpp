#include "files.hpp"

#include <fstream>
#include <sstream>

namespace bc::cli {

std::string slurp(const std::filesystem::path &p)
{
	std::ifstream in(p, std::ios::binary);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

} // namespace bc::cli
