// The byte decoding of the fuzz targets: an input is a configuration
// followed by a history of operations, every choice read from the bytes
// (fuzz/README.md documents the layout).  The decoding leans on the model:
// each operation is chosen among those valid in the current state, so
// nearly every input is a valid history, and the configurations are small
// scaled-down presets so that section ends, zone ends, pfn 0 and
// MAX_PAGE_ORDER are always near.
#pragma once

#include "buddycheck/generate.hpp"
#include "buddycheck/replay.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>
#include <string>

namespace bc {

// What the operations of an input exercise: the whole allocator history
// (differential_fuzzer) or free_pages_bulk() on page arrays (bulk_fuzzer).
enum class decode_target { differential, bulk };

struct decode_options {
	decode_target target = decode_target::differential;
	size_t max_ops = 24;      // operations per input (text traces are cut there too)
	std::string preset;       // force a preset (e.g. "x86_64"); empty: decoded
};

// bulk_fuzzer's chooser: allocations of order-0 granular pages (vmalloc,
// split high-order pages) and free_pages_bulk() of arrays drawn from them:
// sorted runs, shuffled or reversed subsets, pages of several areas, across
// sections and holes; now and then an extra reference, poison or a vfree.
void choose_bulk_ops(const lockstep &ls, const config &c, chooser &ch, uint64_t &next_handle, op_buffer &out,
		     bool with_text = true);

// One lockstep per memory shape (memory model, sections, holes): a fuzzer
// moves between configurations without reallocating memmaps.
class lockstep_pool {
  public:
	explicit lockstep_pool(const replay_options &opt) : opt_(opt) {}
	lockstep &get(const config &c);

  private:
	replay_options opt_;
	std::vector<std::pair<config, std::unique_ptr<lockstep>>> pool_; // keyed by the shape of the first config
};

// The configuration the first bytes of an input describe; the second form
// writes it into c, reusing c's memory.
config decode_config(chooser &ch, const decode_options &opt = {});
void decode_config(chooser &ch, const decode_options &opt, config &c);

// An input that begins with "buddycheck-trace 1\n" is a text trace, replayed
// as written (how the seed corpora carry the golden traces); an invalid one
// passes.  Any other input is decoded as above.
//
// Runs an input on a lockstep (reset to the decoded configuration): the
// decoded operations, then the final check.  The verdict is in the result.
const replay_result &run_input(lockstep &ls, const uint8_t *data, size_t size, const decode_options &opt = {});
const replay_result &run_input(lockstep_pool &pool, const uint8_t *data, size_t size, const decode_options &opt = {});

// The trace an input stands for, as `buddycheck replay` reads it.
std::string decode_trace(const uint8_t *data, size_t size, const decode_options &opt = {});

} // namespace bc
