/*
 * The kernel shim: what kernel-style free-path code of the 2026 series
 * needs to compile as GNU C against the buddycheck model.  Every
 * include/linux/<x>.h of this directory includes this one header, so a
 * candidate may include any of them, in any order.
 *
 * Configuration constants (MAX_PAGE_ORDER, pageblock_order, PAGE_SHIFT, ...)
 * are runtime values of the active model; page state goes through the model
 * (bc_* functions, implemented in shim.cpp).  README.md lists every symbol.
 */
#ifndef BUDDYCHECK_KERNEL_H
#define BUDDYCHECK_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buddycheck/page.h"

/* ---- compiler.h, types.h ---- */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef unsigned int gfp_t;
typedef unsigned long phys_addr_t;
typedef struct {
	int counter;
} atomic_t;

#define __bitwise
#define __force
#define __must_check __attribute__((__warn_unused_result__))
#undef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __cold __attribute__((__cold__))
#define __init
#define __meminit
#define __ref
#define __read_mostly
#define __user
#define __rcu
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define BIT(nr) (1UL << (nr))
#define BITS_PER_LONG 64

/* IS_ENABLED(CONFIG_FOO): the kernel's placeholder trick, so that a config
 * macro defined to 1 is enabled and an undefined one is not. */
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x) ___is_defined(x)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define IS_ENABLED(option) __is_defined(option)
#define IS_BUILTIN(option) __is_defined(option)
/* The configuration the model stands for. */
#define CONFIG_MMU 1
#define CONFIG_CONTIG_ALLOC 1
#define CONFIG_CMA 1
#define CONFIG_MEMORY_ISOLATION 1
#define CONFIG_SPARSEMEM 1
#define CONFIG_TRANSPARENT_HUGEPAGE 1

/* ---- export.h, module.h ---- */
#define EXPORT_SYMBOL(sym) extern __typeof__(sym) sym
#define EXPORT_SYMBOL_GPL(sym) extern __typeof__(sym) sym
#define EXPORT_SYMBOL_NS_GPL(sym, ns) extern __typeof__(sym) sym

/* ---- bug.h, mmdebug.h: a WARN or BUG fired by candidate code is a finding ---- */
void bc_kernel_warn(const char *file, int line, const char *what, const char *cond, const struct page *page);
#define __bc_warn_if(cond, what, page)                                                   \
	({                                                                               \
		int __ret_warn = !!(cond);                                               \
		if (unlikely(__ret_warn))                                                \
			bc_kernel_warn(__FILE__, __LINE__, what, #cond, page);           \
		unlikely(__ret_warn);                                                    \
	})
#define WARN_ON(cond) __bc_warn_if(cond, "WARN_ON", NULL)
#define WARN_ON_ONCE(cond) __bc_warn_if(cond, "WARN_ON_ONCE", NULL)
#define WARN(cond, ...) __bc_warn_if(cond, "WARN", NULL)
#define WARN_ONCE(cond, ...) __bc_warn_if(cond, "WARN_ONCE", NULL)
#define BUG_ON(cond) ((void)__bc_warn_if(cond, "BUG_ON", NULL))
#define BUG() bc_kernel_warn(__FILE__, __LINE__, "BUG", "BUG()", NULL)
#define VM_WARN_ON(cond) ((void)__bc_warn_if(cond, "VM_WARN_ON", NULL))
#define VM_WARN_ON_ONCE(cond) __bc_warn_if(cond, "VM_WARN_ON_ONCE", NULL)
#define VM_WARN_ON_ONCE_PAGE(cond, page) __bc_warn_if(cond, "VM_WARN_ON_ONCE_PAGE", page)
#define VM_WARN_ON_PAGE(cond, page) ((void)__bc_warn_if(cond, "VM_WARN_ON_PAGE", page))
#define VM_BUG_ON(cond) ((void)__bc_warn_if(cond, "VM_BUG_ON", NULL))
#define VM_BUG_ON_PAGE(cond, page) ((void)__bc_warn_if(cond, "VM_BUG_ON_PAGE", page))
#define VM_BUG_ON_FOLIO(cond, folio) ((void)__bc_warn_if(cond, "VM_BUG_ON_FOLIO", NULL))
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON(" #cond ")")
#define pr_warn(...) ((void)0)
#define pr_err(...) ((void)0)
#define pr_info(...) ((void)0)
#define pr_debug(...) ((void)0)
#define might_sleep() ((void)0)

/* ---- minmax.h (type-checked like the kernel's, via GNU statement expressions) ---- */
#define min(x, y) ({ __typeof__(x) _mn1 = (x); __typeof__(y) _mn2 = (y); (void)(&_mn1 == &_mn2); _mn1 < _mn2 ? _mn1 : _mn2; })
#define max(x, y) ({ __typeof__(x) _mx1 = (x); __typeof__(y) _mx2 = (y); (void)(&_mx1 == &_mx2); _mx1 > _mx2 ? _mx1 : _mx2; })
#define min_t(type, x, y) ({ type _mt1 = (x); type _mt2 = (y); _mt1 < _mt2 ? _mt1 : _mt2; })
#define max_t(type, x, y) ({ type _xt1 = (x); type _xt2 = (y); _xt1 > _xt2 ? _xt1 : _xt2; })
#define clamp(val, lo, hi) min(max(val, lo), hi)
#define clamp_t(type, val, lo, hi) min_t(type, max_t(type, val, lo), hi)
#define umin(x, y) min_t(unsigned long long, x, y)
#define umax(x, y) max_t(unsigned long long, x, y)

/* ---- bitops.h, log2.h, align.h ---- */
/* __ffs() and __fls() are undefined for 0 in the kernel ("code should check
 * against 0 first"): the shim reports such a call as a finding. */
static inline unsigned long bc___ffs(unsigned long word, const char *file, int line)
{
	if (unlikely(!word)) {
		bc_kernel_warn(file, line, "undefined", "__ffs(0)", NULL);
		return 0;
	}
	return (unsigned long)__builtin_ctzl(word);
}
static inline unsigned long bc___fls(unsigned long word, const char *file, int line)
{
	if (unlikely(!word)) {
		bc_kernel_warn(file, line, "undefined", "__fls(0)", NULL);
		return 0;
	}
	return (unsigned long)(BITS_PER_LONG - 1 - __builtin_clzl(word));
}
/* Macros, so that a report names the caller's file and line. */
#define __ffs(word) bc___ffs((word), __FILE__, __LINE__)
#define __fls(word) bc___fls((word), __FILE__, __LINE__)
static inline int ffs(int x) { return __builtin_ffs(x); }
static inline int fls(unsigned int x) { return x ? 32 - __builtin_clz(x) : 0; }
static inline int fls64(u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }
static inline int fls_long(unsigned long x) { return fls64(x); }
#define ffz(x) __ffs(~(unsigned long)(x))
static inline bool is_power_of_2(unsigned long n) { return n != 0 && ((n & (n - 1)) == 0); }
static inline int __ilog2_u64(u64 n) { return fls64(n) - 1; }
#define ilog2(n) (__ilog2_u64((u64)(n))) /* -1 for 0, like the kernel's runtime path */
#define roundup_pow_of_two(n) (1UL << fls_long((n)-1))
#define rounddown_pow_of_two(n) (1UL << (fls_long(n) - 1))
#define __ALIGN_KERNEL_MASK(x, mask) (((x) + (mask)) & ~(mask))
#define ALIGN(x, a) __ALIGN_KERNEL_MASK(x, (__typeof__(x))(a)-1)
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define round_up(x, y) ((((x)-1) | ((__typeof__(x))((y)-1))) + 1)
#define round_down(x, y) ((x) & ~((__typeof__(x))((y)-1)))
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))

/* ---- configuration of the active model (runtime values) ---- */
unsigned int bc_page_shift(void);
unsigned int bc_max_page_order(void);
unsigned int bc_pageblock_order(void);
unsigned long bc_pages_per_section(void);
#define PAGE_SHIFT (bc_page_shift())
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define MAX_PAGE_ORDER (bc_max_page_order())
#define NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1)
#define MAX_ORDER_NR_PAGES (1UL << MAX_PAGE_ORDER)
#define pageblock_order (bc_pageblock_order())
#define pageblock_nr_pages (1UL << pageblock_order)
#define PAGE_ALLOC_COSTLY_ORDER 3
#define PAGES_PER_SECTION (bc_pages_per_section())
#define PFN_SECTION_SHIFT ((unsigned int)__builtin_ctzl(PAGES_PER_SECTION))
#define SECTION_SIZE_BITS (PFN_SECTION_SHIFT + PAGE_SHIFT)
#define HPAGE_PMD_ORDER (bc_thp_order())
int bc_thp_order(void);

/* ---- gfp.h, mmzone.h ---- */
#define __GFP_COMP 0x40000u
#define __GFP_NOWARN 0x2000u
#define __GFP_ZERO 0x100u
#define GFP_KERNEL 0xcc0u
#define GFP_ATOMIC 0x820u
#define GFP_NOWAIT 0x800u
#define __GFP_MOVABLE 0x08u
#define GFP_HIGHUSER_MOVABLE (GFP_KERNEL | __GFP_MOVABLE)
#define GFP_USER GFP_KERNEL

#include <buddycheck_zone.h>
enum node_stat_item { NR_VMALLOC, NR_FREE_PAGES_NODE_STAT_PLACEHOLDER };

/* fpi_t (mm/page_alloc.c): how __free_frozen_pages() frees. */
typedef int __bitwise fpi_t;
#define FPI_NONE ((__force fpi_t)0)
#define FPI_SKIP_REPORT_NOTIFY ((__force fpi_t)BIT(0))
#define FPI_TO_TAIL ((__force fpi_t)BIT(1))
#define FPI_TRYLOCK ((__force fpi_t)BIT(2))
#define FPI_PREPARED ((__force fpi_t)BIT(3))

/* ---- the model (shim.cpp) ---- */
struct page *bc_pfn_to_page(unsigned long pfn);
unsigned long bc_page_to_pfn(const struct page *page);
bool bc_pfn_valid(unsigned long pfn);
struct zone *bc_page_zone(const struct page *page);
bool free_pages_prepare(struct page *page, unsigned int order);
void __free_frozen_pages(struct page *page, unsigned int order, fpi_t fpi_flags);
void free_frozen_pages(struct page *page, unsigned int order);
void __free_pages(struct page *page, unsigned int order);
void split_page(struct page *page, unsigned int order);
void mod_lruvec_page_state(struct page *page, enum node_stat_item idx, int val);
void bc_cond_resched(void);
int bc_put_page_testzero(struct page *page);

/*
 * The calls into the model take the caller's file and line, so that a
 * finding names the candidate's line that broke it (Model::call).  The
 * functions above stay, for code that takes their address; a candidate must
 * not redeclare them (mm/internal.h, which the shim provides, declares them).
 */
struct page *bc_pfn_to_page_at(unsigned long pfn, const char *file, int line);
unsigned long bc_page_to_pfn_at(const struct page *page, const char *file, int line);
bool bc_free_pages_prepare_at(struct page *page, unsigned int order, const char *file, int line);
void bc___free_frozen_pages_at(struct page *page, unsigned int order, fpi_t fpi_flags, const char *file, int line);
void bc_free_frozen_pages_at(struct page *page, unsigned int order, const char *file, int line);
void bc___free_pages_at(struct page *page, unsigned int order, const char *file, int line);
void bc_split_page_at(struct page *page, unsigned int order, const char *file, int line);
int bc_put_page_testzero_at(struct page *page, const char *file, int line);
#define free_pages_prepare(page, order) bc_free_pages_prepare_at((page), (order), __FILE__, __LINE__)
#define __free_frozen_pages(page, order, fpi) bc___free_frozen_pages_at((page), (order), (fpi), __FILE__, __LINE__)
#define free_frozen_pages(page, order) bc_free_frozen_pages_at((page), (order), __FILE__, __LINE__)
#define __free_pages(page, order) bc___free_pages_at((page), (order), __FILE__, __LINE__)
#define split_page(page, order) bc_split_page_at((page), (order), __FILE__, __LINE__)

#define pfn_to_page(pfn) bc_pfn_to_page_at((pfn), __FILE__, __LINE__)
#define page_to_pfn(page) bc_page_to_pfn_at((page), __FILE__, __LINE__)
#define pfn_valid(pfn) bc_pfn_valid(pfn)
#define page_zone(page) bc_page_zone(page)
#define nth_page(page, n) pfn_to_page(page_to_pfn((page)) + (n))
#define __free_page(page) __free_pages((page), 0)
#define cond_resched() bc_cond_resched()

static inline unsigned long memdesc_section(memdesc_flags_t mdf)
{
	return (mdf.f >> BC_SECTIONS_PGSHIFT) & BC_SECTIONS_MASK;
}
static inline unsigned long page_to_section(const struct page *page) { return memdesc_section(page->flags); }
static inline unsigned long pfn_to_section_nr(unsigned long pfn) { return pfn >> PFN_SECTION_SHIFT; }
static inline unsigned long section_nr_to_pfn(unsigned long sec) { return sec << PFN_SECTION_SHIFT; }

/* ---- page_ref.h ---- */
static inline int page_ref_count(const struct page *page) { return READ_ONCE(page->_refcount); }
static inline int page_count(const struct page *page) { return page_ref_count(page); }
static inline void set_page_count(struct page *page, int v) { WRITE_ONCE(page->_refcount, v); }
static inline void set_page_refcounted(struct page *page) { set_page_count(page, 1); }
static inline void page_ref_inc(struct page *page) { page->_refcount++; }
static inline void get_page(struct page *page) { page_ref_inc(page); }
#define put_page_testzero(page) bc_put_page_testzero_at((page), __FILE__, __LINE__)
#define page_ref_dec_and_test(page) bc_put_page_testzero_at((page), __FILE__, __LINE__)

/* ---- page-flags.h ---- */
static inline bool bc_test_flag(const struct page *page, int bit) { return (page->flags.f >> bit) & 1; }
static inline int PageHWPoison(const struct page *page) { return bc_test_flag(page, PG_hwpoison); }
static inline int PageHead(const struct page *page) { return bc_test_flag(page, PG_head); }
static inline int PageTail(const struct page *page) { return READ_ONCE(page->compound_head) & 1; }
static inline int PageCompound(const struct page *page) { return PageHead(page) || PageTail(page); }
static inline int PageReserved(const struct page *page) { return bc_test_flag(page, PG_reserved); }
static inline int PageLRU(const struct page *page) { return bc_test_flag(page, PG_lru); }
static inline int PageLocked(const struct page *page) { return bc_test_flag(page, PG_locked); }
static inline int PagePrivate(const struct page *page) { return bc_test_flag(page, PG_private); }
static inline int PageWriteback(const struct page *page) { return bc_test_flag(page, PG_writeback); }
static inline int PageBuddy(const struct page *page) { return page->page_type == BC_PGTY_BUDDY; }
static inline struct page *compound_head(const struct page *page)
{
	unsigned long head = READ_ONCE(page->compound_head);
	if (head & 1)
		return (struct page *)(head - 1);
	return (struct page *)page;
}
static inline unsigned int compound_order(const struct page *page)
{
	return PageHead(page) ? page->bc_compound_order : 0;
}
static inline unsigned long compound_nr(const struct page *page) { return 1UL << compound_order(page); }
static inline unsigned long page_private(const struct page *page) { return page->private; }
static inline void set_page_private(struct page *page, unsigned long v) { page->private = v; }

/* ---- mm_types.h, mm.h, page-flags.h: the folio API of the free path ----
 * A folio is its first struct page (the kernel overlays the two); every
 * call goes through the page functions above, so the model sees the same
 * accesses. */
struct folio {
	struct page page;
};
#define page_folio(p) ((struct folio *)compound_head(p))
#define folio_page(folio, n) nth_page(&(folio)->page, (n))
static inline unsigned int folio_order(const struct folio *folio) { return compound_order(&folio->page); }
static inline unsigned long folio_nr_pages(const struct folio *folio) { return 1UL << folio_order(folio); }
#define folio_pfn(folio) page_to_pfn(&(folio)->page)
#define folio_put_testzero(folio) put_page_testzero(&(folio)->page)
#define folio_ref_dec_and_test(folio) put_page_testzero(&(folio)->page)
static inline int folio_ref_count(const struct folio *folio) { return page_ref_count(&folio->page); }
static inline void folio_get(struct folio *folio) { get_page(&folio->page); }
static inline int folio_test_large(const struct folio *folio) { return PageHead(&folio->page); }
static inline int folio_test_head(const struct folio *folio) { return PageHead(&folio->page); }
static inline int folio_test_hwpoison(const struct folio *folio) { return PageHWPoison(&folio->page); }
static inline int folio_test_lru(const struct folio *folio) { return PageLRU(&folio->page); }
static inline int folio_test_locked(const struct folio *folio) { return PageLocked(&folio->page); }
static inline int folio_test_reserved(const struct folio *folio) { return PageReserved(&folio->page); }
static inline int folio_test_private(const struct folio *folio) { return PagePrivate(&folio->page); }
static inline int folio_test_writeback(const struct folio *folio) { return PageWriteback(&folio->page); }
static inline int folio_test_buddy(const struct folio *folio) { return PageBuddy(&folio->page); }
#define folio_zone(folio) page_zone(&(folio)->page)

/* ---- mm.h ---- */
/*
 * num_pages_contiguous(): how many entries of pages[] are consecutive struct
 * pages of one section.  Provided by the shim unless the candidate defines
 * its own (the check driver passes -DBC_CANDIDATE_DEFINES_num_pages_contiguous).
 */
#ifndef BC_CANDIDATE_DEFINES_num_pages_contiguous
unsigned long num_pages_contiguous(struct page **pages, size_t nr_pages);
#endif

/* ---- the family under test: declared here only when the candidate does
 * not define it, so a candidate may define any of them static. ---- */
#ifndef BC_CANDIDATE_DEFINES_free_prepared_contig_range
void free_prepared_contig_range(struct page *page, unsigned long nr_pages);
#endif
#ifndef BC_CANDIDATE_DEFINES___free_contig_range_common
void __free_contig_range_common(unsigned long pfn, unsigned long nr_pages, bool is_frozen);
#endif
#ifndef BC_CANDIDATE_DEFINES___free_contig_range
void __free_contig_range(unsigned long pfn, unsigned long nr_pages);
#endif
#ifndef BC_CANDIDATE_DEFINES___free_contig_frozen_range
void __free_contig_frozen_range(unsigned long pfn, unsigned long nr_pages);
#endif
#ifndef BC_CANDIDATE_DEFINES_free_contig_range
void free_contig_range(unsigned long pfn, unsigned long nr_pages);
#endif
#ifndef BC_CANDIDATE_DEFINES_free_contig_frozen_range
void free_contig_frozen_range(unsigned long pfn, unsigned long nr_pages);
#endif
#ifndef BC_CANDIDATE_DEFINES_free_pages_bulk
void free_pages_bulk(struct page **page_array, unsigned long nr_pages);
#endif

/* ---- what a KUnit reproducer calls (buddycheck replay --kunit) ---- */
struct page *alloc_contig_pages(unsigned long nr_pages, gfp_t gfp_mask, int nid, void *nodemask);
void drain_all_pages(struct zone *zone);
typedef unsigned int acr_flags_t;
#define ACR_FLAGS_NONE ((acr_flags_t)0)
int alloc_contig_range(unsigned long start, unsigned long end, acr_flags_t alloc_flags, gfp_t gfp_mask);
static inline unsigned int buddy_order(const struct page *page) { return (unsigned int)page->private; }
static inline void SetPageHWPoison(struct page *page) { page->flags.f |= 1UL << PG_hwpoison; }
static inline int numa_node_id(void) { return 0; }
#define MODULE_LICENSE(x)
#define MODULE_IMPORT_NS(x)

/* ---- spinlock.h (checked: buddycheck_zone.h), sched.h, misc stubs ---- */
#define spin_lock(l) bc_spin_lock((l), __FILE__, __LINE__)
#define spin_unlock(l) bc_spin_unlock((l), __FILE__, __LINE__)
#define spin_lock_irqsave(l, flags) ((flags) = 0, bc_spin_lock((l), __FILE__, __LINE__))
#define spin_unlock_irqrestore(l, flags) ((void)(flags), bc_spin_unlock((l), __FILE__, __LINE__))
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
static inline int bc_spin_trylock(spinlock_t *l, const char *file, int line)
{
	if (l->bc_held)
		return 0;
	bc_spin_lock(l, file, line);
	return 1;
}
#define spin_trylock(l) bc_spin_trylock((l), __FILE__, __LINE__)
#define spin_trylock_irqsave(l, flags) ((flags) = 0, bc_spin_trylock((l), __FILE__, __LINE__))
#define lockdep_assert_held(l) VM_WARN_ON_ONCE(!(l)->bc_held)

/* ---- vmstat.h ---- */
#define mod_zone_page_state(zone, item, delta) bc_mod_zone_page_state((zone), (item), (delta), __FILE__, __LINE__)
#define __mod_zone_page_state(zone, item, delta) mod_zone_page_state(zone, item, delta)
#define zone_idx(zone) ((zone)->bc_index)
#define local_irq_save(flags) ((flags) = 0)
#define local_irq_restore(flags) ((void)(flags))
#define preempt_disable() ((void)0)
#define preempt_enable() ((void)0)
#define rcu_read_lock() ((void)0)
#define rcu_read_unlock() ((void)0)

#endif /* BUDDYCHECK_KERNEL_H */
