// bulk_fuzzer: free_pages_bulk() on page arrays (sorted, shuffled, reversed,
// across sections and holes), candidate against the per-page oracle.
#include "history_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return bc::fuzz::run("bulk_fuzzer", bc::decode_target::bulk, data, size);
}
