// One engine of the lockstep: its model, the trace's handles on it, and
// one operation's run (the operations themselves: perform.cpp).
#include "engine.hpp"

namespace bc::detail {

engine::engine(std::string r, const free_family *f, const config &c) : role(std::move(r)), fam(f), m(std::make_unique<Model>(c))
{
	owner.assign(m->nr_pfns(), -1);
	// The first finding stops the operation (run() catches the stop):
	// code under test that loops past its range ends there.
	m->stop_at_first_finding = true;
}

void engine::reset(const config &c)
{
	m->reset(c);
	nr_handles = 0;
	live.clear();
	failed_at.clear();
	owner.assign(m->nr_pfns(), -1);
	vmalloc_pages = 0;
	alloc_failed = false;
	allocated = nullptr;
	free_log.clear();
	warnings_before = 0;
	op_ranges.clear();
}

handle &engine::get(const std::string &name)
{
	handle *found = find_live(name);
	if (!found) {
		for (auto f = failed_at.rbegin(); f != failed_at.rend(); ++f)
			if (f->first == name)
				throw bad_input{"handle '" + name + "' does not exist: its allocation at line " + std::to_string(f->second) +
						" failed (add 'expect fail' after it to document that)"};
		throw bad_input{"handle '" + name + "' does not exist (never allocated, or all its pages were freed)"};
	}
	return *found;
}

void engine::run(const op &o)
{
	Model &mm = *m;
	activate();
	if (o.kind >= op_kind::check)
		return; // checks and expectations read the previous operation's results
	mm.dirty.clear();
	mm.free_log.clear();
	mm.scope.ranges.clear();
	op_ranges.clear();
	alloc_failed = false;
	allocated = nullptr;
	struct note_failure {
		engine &e;
		const op &o;
		~note_failure()
		{
			if (e.alloc_failed)
				e.failed_at.emplace_back(o.handle, o.line);
		}
	} note{*this, o};
	warnings_before = mm.warnings.size();
	try {
		perform(o);
	} catch (const finding_stop &) {
		// The model stopped the operation at its first finding (the
		// lockstep sets stop_at_first_finding): the finding is in
		// mm.findings, and check_after_op() reports it at this
		// operation.  The model's state is left as the stop found it.
	}
	mm.scope.ranges.clear();
	free_log.swap(mm.free_log); // the model's log is cleared at the next operation
}

} // namespace bc::detail
