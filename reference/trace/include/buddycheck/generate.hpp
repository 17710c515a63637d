// Histories that are valid by construction: the operation chooser shared by
// the random trace generator (`buddycheck generate`), the byte decoder of
// the fuzz targets (`buddycheck decode`) and the property tests.  Every
// choice comes from a `chooser`: a seeded generator or the fuzzer's bytes.
#pragma once

#include "buddycheck/config.hpp"
#include "buddycheck/trace.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bc {

class lockstep;

struct chooser {
	virtual ~chooser() = default;
	// A value in [0, n); 0 when n <= 1.
	virtual uint64_t below(uint64_t n) = 0;
	// The source has run dry (a byte chooser at the end of its input).
	virtual bool exhausted() const { return false; }
	bool chance(unsigned percent) { return below(100) < percent; }
};

// splitmix64 (splitmix.hpp): fixed and portable, so a seed means the same
// history everywhere.
struct rng_chooser final : chooser {
	uint64_t state;
	explicit rng_chooser(uint64_t seed) : state(seed) {}
	uint64_t next();
	uint64_t below(uint64_t n) override { return n > 1 ? next() % n : 0; }
};

// The fuzzer's input, read front to back: 1 byte for a choice among at most
// 256, 2 bytes for 65536, else 4 (little-endian), taken modulo n.
struct byte_chooser final : chooser {
	const uint8_t *data;
	size_t size, pos = 0;
	bool dry = false;
	byte_chooser(const uint8_t *d, size_t n) : data(d), size(n) {}
	uint64_t below(uint64_t n) override;
	bool exhausted() const override { return dry; }
};

// The operations chosen for one step (at most op_buffer::max_ops).  Its ops
// keep their strings' and vectors' memory from step to step: a fuzzer
// decodes millions of them and should not allocate for each.
class op_buffer {
  public:
	static constexpr size_t max_ops = 4;
	op_buffer() { ops_.reserve(max_ops); }
	// A default-valued op; references stay valid until clear().
	op &add();
	void clear() { n_ = 0; }
	size_t size() const { return n_; }
	op *begin() { return ops_.data(); }
	op *end() { return ops_.data() + n_; }

  private:
	std::vector<op> ops_;
	size_t n_ = 0;
};

// The name of the n-th handle a chooser creates: h<n> (into out, reusing its memory).
void handle_name(std::string &out, uint64_t n);

// Appends the next operation(s) valid in the lockstep's current state (the
// oracle's view): sometimes a drain or cpu switch, then one allocator
// operation.  Handle names are h<next_handle>.
// with_text: fill op::text (for traces and reports; fuzzers skip it).
void choose_ops(const lockstep &ls, const config &c, chooser &ch, uint64_t &next_handle, op_buffer &out,
		bool with_text = true);

struct generate_options {
	size_t ops = 1000;        // operations to write
	uint64_t seed = 1;
	size_t check_every = 500; // a `check` line every N operations (0: none)
};

// A whole trace (header, config lines, operations).  The same configuration,
// options and seed always give the same text.
std::string generate_trace(const config &c, const generate_options &g);

} // namespace bc
