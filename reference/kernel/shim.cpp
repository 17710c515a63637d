// The C side of the kernel shim: what buddycheck_kernel.h declares,
// implemented on the active model (bc::current()) and free family.
#include "buddycheck/chunk.hpp"
#include "buddycheck/format.hpp"
#include "buddycheck/free_family.hpp"
#include "buddycheck/model.hpp"

#include "buddycheck_zone.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

// The struct zone a candidate sees for each zone of the model: one table
// per model, rebuilt (locks released) when its zones change.
std::vector<::zone> &c_zones(Model &m)
{
	static thread_local const Model *owner = nullptr;
	static thread_local std::vector<::zone> table;
	const auto &zs = m.zones();
	bool same = owner == &m && table.size() == zs.size();
	for (size_t i = 0; same && i < zs.size(); i++)
		same = table[i].zone_start_pfn == zs[i].zone_start_pfn &&
		       table[i].spanned_pages == zs[i].zone_end_pfn - zs[i].zone_start_pfn && table[i].name == zs[i].name.c_str();
	if (!same) {
		owner = &m;
		table.assign(zs.size(), ::zone{});
		for (size_t i = 0; i < zs.size(); i++) {
			table[i].name = zs[i].name.c_str();
			table[i].zone_start_pfn = zs[i].zone_start_pfn;
			table[i].spanned_pages = zs[i].zone_end_pfn - zs[i].zone_start_pfn;
			table[i].present_pages = table[i].spanned_pages;
			table[i].node = int(m.cfg().node_of_pfn(zs[i].zone_start_pfn));
			table[i].bc_index = unsigned(i);
		}
	}
	return table;
}

// The free path takes zone->lock: called with one held, the kernel
// deadlocks.
void check_no_zone_lock(Model &m, const char *fn)
{
	for (const ::zone &z : c_zones(m))
		if (z.lock.bc_held)
			m.report("kernel_bug", no_pfn,
				 std::string(fn) + "() takes zone->lock, which the candidate holds (taken at " +
					 (z.lock.bc_file ? z.lock.bc_file : "?") + ":" + std::to_string(z.lock.bc_line) +
					 "): a deadlock");
}

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

::zone *bc_page_zone(const page *p)
{
	Model &m = current();
	uint64_t pfn = m.page_to_pfn(p);
	const bc::zone *z = pfn == no_pfn ? nullptr : m.zone_of(pfn);
	return z ? &c_zones(m)[z->idx] : nullptr;
}

void bc_spin_lock(spinlock_t *l, const char *file, int line)
{
	if (l->bc_held) {
		Model &m = current();
		at_call at(m, file, line);
		m.report("kernel_bug", no_pfn,
			 std::string("spin_lock() of a lock already held (taken at ") + (l->bc_file ? l->bc_file : "?") + ":" +
				 std::to_string(l->bc_line) + "): a deadlock");
	}
	l->bc_held = 1;
	l->bc_file = file;
	l->bc_line = line;
}

void bc_spin_unlock(spinlock_t *l, const char *file, int line)
{
	if (!l->bc_held) {
		Model &m = current();
		at_call at(m, file, line);
		m.report("kernel_bug", no_pfn, "spin_unlock() of a lock that is not held");
	}
	l->bc_held = 0;
}

unsigned long zone_page_state(::zone *z, enum zone_stat_item item)
{
	Model &m = current();
	long v = z->bc_vm_stat_delta[item];
	if (item == NR_FREE_PAGES && z->bc_index < m.zones().size())
		v += m.zones()[z->bc_index].nr_free_pages;
	return v < 0 ? 0 : (unsigned long)v;
}

void bc_mod_zone_page_state(::zone *z, enum zone_stat_item item, long delta, const char *file, int line)
{
	z->bc_vm_stat_delta[item] += delta;
	if (item == NR_FREE_PAGES && delta) {
		Model &m = current();
		at_call at(m, file, line);
		m.report("free_counters", no_pfn,
			 "mod_zone_page_state(NR_FREE_PAGES, " + std::to_string(delta) +
				 ") by the candidate: the free path accounts free pages itself (account_freepages)");
	}
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

// After each call of a candidate's entry point (candidate_family.cpp): a
// zone->lock it still holds is a finding, and is released.
void bc_zone_locks_released(const char *fn)
{
	Model &m = current();
	for (::zone &z : c_zones(m))
		if (z.lock.bc_held) {
			z.lock.bc_held = 0;
			m.report("kernel_bug", no_pfn,
				 std::string(fn) + "() returned with zone->lock held (taken at " +
					 (z.lock.bc_file ? z.lock.bc_file : "?") + ":" + std::to_string(z.lock.bc_line) + ")");
		}
}

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
	check_no_zone_lock(current(), "__free_frozen_pages");
	(__free_frozen_pages)(p, order, fpi_flags);
}
void bc_free_frozen_pages_at(page *p, unsigned int order, const char *file, int line)
{
	at_call at(current(), file, line);
	check_no_zone_lock(current(), "free_frozen_pages");
	(free_frozen_pages)(p, order);
}
void bc___free_pages_at(page *p, unsigned int order, const char *file, int line)
{
	at_call at(current(), file, line);
	check_no_zone_lock(current(), "__free_pages");
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
