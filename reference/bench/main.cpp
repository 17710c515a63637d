// buddycheck-bench: the oracle against the reference (or --engine NAME).
#include "scenarios.hpp"

int main(int argc, char **argv)
{
	return bc::bench::bench_main(argc, argv, nullptr);
}
