// The C side of the kernel shim: what buddycheck_kernel.h declares,
// implemented on the active model (bc::current()) and free family.
#include "buddycheck/chunk.hpp"
#include "buddycheck/format.hpp"
#include "buddycheck/free_family.hpp"
#include "buddycheck/model.hpp"

#include <cstdio>
#include <string>

using namespace bc;

namespace {

// A struct page that stands for "not a page": what pfn_to_page() of an
// invalid pfn returns after reporting it, so that candidate code keeps
// running to the end of the operation instead of crashing.
page invalid_page_storage = [] {
	page p{};
	p._mapcount = -1;
	return p;
}();

// Model::call for the length of one call from the candidate: the line a
// finding names.  Restores the outer one (and clears it on a finding_stop
// thrown through the call).
struct at_call {
	Model &m;
	Model::call_site saved;
	at_call(Model &mm, const char *file, int line) : m(mm), saved(mm.call) { m.call = {file, line}; }
	~at_call() { m.call = saved; }
	at_call(const at_call &) = delete;
	at_call &operator=(const at_call &) = delete;
};

} // namespace

extern "C" {

void bc_kernel_warn(const char *file, int line, const char *what, const char *cond, const page *p)
{
	Model &m = current();
	uint64_t pfn = p ? m.page_to_pfn(p) : no_pfn;
	std::string where = std::string(file) + ":" + std::to_string(line);
	std::string msg = std::string(what) + "(" + cond + ") fired at " + where + (pfn != no_pfn ? " on pfn " + hex(pfn) : std::string());
	// A BUG, or undefined behaviour the shim detects, is a finding at once.
	// A WARN is compared with the oracle's: both warn on the caller errors
	// the kernel warns about, so a WARN only the candidate fires is a
	// finding of the differential check.  (_ONCE fires every time here.)
	const std::string w = what;
	if (w.find("BUG") != std::string::npos || w == "undefined") {
		at_call at(m, file, line);
		m.report("kernel_bug", pfn, msg);
	} else
		m.warn(pfn, msg);
}

unsigned int bc_page_shift(void) { return current().cfg().page_shift; }
unsigned int bc_max_page_order(void) { return current().cfg().max_page_order; }
unsigned int bc_pageblock_order(void) { return current().cfg().pageblock_order; }
unsigned long bc_pages_per_section(void) { return current().cfg().pages_per_section(); }
int bc_thp_order(void) { return current().cfg().thp_order; }

page *bc_pfn_to_page(unsigned long pfn)
{
	Model &m = current();
	if (!m.pfn_valid(pfn)) {
		m.report("pfn_valid", pfn, "pfn_to_page(" + hex(pfn) + ") of a pfn that is not valid (hole or beyond the end)");
		return &invalid_page_storage;
	}
	return m.pfn_to_page(pfn);
}

unsigned long bc_page_to_pfn(const page *p)
{
	Model &m = current();
	uint64_t pfn = m.page_to_pfn(p);
	if (pfn == no_pfn)
		m.report("struct_page_pointer", no_pfn,
			 "page_to_pfn() of a pointer that is not a struct page of the memmap "
			 "(a page++ walk across a section boundary under classic SPARSEMEM?)");
	return pfn;
}

bool bc_pfn_valid(unsigned long pfn) { return current().pfn_valid(pfn); }

struct zone *bc_page_zone(const page *p)
{
	Model &m = current();
	uint64_t pfn = m.page_to_pfn(p);
	return pfn == no_pfn ? nullptr : reinterpret_cast<struct zone *>(m.zone_of(pfn));
}

static bool valid_page(Model &m, const page *p, const char *fn)
{
	if (m.page_to_pfn(p) != no_pfn)
		return true;
	m.report("struct_page_pointer", no_pfn,
		 std::string(fn) + "() got a pointer that is not a struct page of the memmap "
				   "(a page++ walk across a section boundary under classic SPARSEMEM?)");
	return false;
}

bool free_pages_prepare(page *p, unsigned int order)
{
	Model &m = current();
	return valid_page(m, p, "free_pages_prepare") && m.free_pages_prepare(p, order);
}

void __free_frozen_pages(page *p, unsigned int order, int fpi_flags)
{
	current().__free_frozen_pages(p, order, unsigned(fpi_flags));
}

void free_frozen_pages(page *p, unsigned int order) { current().free_frozen_pages(p, order); }

void __free_pages(page *p, unsigned int order)
{
	Model &m = current();
	if (valid_page(m, p, "__free_pages"))
		m.__free_pages(p, order);
}

void split_page(page *p, unsigned int order)
{
	Model &m = current();
	if (valid_page(m, p, "split_page"))
		m.split_page(p, order);
}

int bc_put_page_testzero(page *p)
{
	Model &m = current();
	return valid_page(m, p, "put_page_testzero") && m.put_page_testzero(p);
}

void mod_lruvec_page_state(page * /*p*/, int idx, int val)
{
	if (idx == 0) // NR_VMALLOC
		current().nr_vmalloc += val;
}

void bc_cond_resched(void) { current().cond_resched(); }

// The call-site forms (buddycheck_kernel.h's macros).
page *bc_pfn_to_page_at(unsigned long pfn, const char *file, int line)
{
	at_call at(current(), file, line);
	return bc_pfn_to_page(pfn);
}
unsigned long bc_page_to_pfn_at(const page *p, const char *file, int line)
{
	at_call at(current(), file, line);
	return bc_page_to_pfn(p);
}
bool bc_free_pages_prepare_at(page *p, unsigned int order, const char *file, int line)
{
	at_call at(current(), file, line);
	return (free_pages_prepare)(p, order);
}
void bc___free_frozen_pages_at(page *p, unsigned int order, int fpi_flags, const char *file, int line)
{
	at_call at(current(), file, line);
	(__free_frozen_pages)(p, order, fpi_flags);
}
void bc_free_frozen_pages_at(page *p, unsigned int order, const char *file, int line)
{
	at_call at(current(), file, line);
	(free_frozen_pages)(p, order);
}
void bc___free_pages_at(page *p, unsigned int order, const char *file, int line)
{
	at_call at(current(), file, line);
	(__free_pages)(p, order);
}
void bc_split_page_at(page *p, unsigned int order, const char *file, int line)
{
	at_call at(current(), file, line);
	(split_page)(p, order);
}
int bc_put_page_testzero_at(page *p, const char *file, int line)
{
	at_call at(current(), file, line);
	return bc_put_page_testzero(p);
}

// The family entry points a candidate does not define: the reference's own.
// Weak, so that a candidate's non-static definition wins at link time.
__attribute__((weak)) void free_prepared_contig_range(page *p, unsigned long nr)
{
	reference_family().free_prepared_contig_range(p, nr);
}
__attribute__((weak)) void __free_contig_range_common(unsigned long pfn, unsigned long nr, bool frozen)
{
	reference_family().free_contig_range_common(pfn, nr, frozen);
}
__attribute__((weak)) void __free_contig_range(unsigned long pfn, unsigned long nr)
{
	reference_family().free_contig_range_inner(pfn, nr);
}
__attribute__((weak)) void __free_contig_frozen_range(unsigned long pfn, unsigned long nr)
{
	reference_family().free_contig_frozen_range_inner(pfn, nr);
}
__attribute__((weak)) void free_contig_range(unsigned long pfn, unsigned long nr)
{
	reference_family().free_contig_range(pfn, nr);
}
__attribute__((weak)) void free_contig_frozen_range(unsigned long pfn, unsigned long nr)
{
	reference_family().free_contig_frozen_range(pfn, nr);
}
__attribute__((weak)) void free_pages_bulk(page **pages, unsigned long nr)
{
	reference_family().free_pages_bulk(pages, nr);
}
__attribute__((weak)) unsigned long num_pages_contiguous(page **pages, size_t nr)
{
	return reference_family().num_pages_contiguous(pages, nr);
}

} // extern "C"
