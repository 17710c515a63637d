// differential_fuzzer: allocator histories on the per-page oracle and on the
// candidate linked into this binary (one binary per candidate).
#include "history_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return bc::fuzz::run("differential_fuzzer", bc::decode_target::differential, data, size);
}
