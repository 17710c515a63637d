// Generators the properties share.  rapidcheck's integer generators scale
// with the test size (small cases draw small values); the properties want
// uniform choices from the first case and leave the history length to the
// size, so choices are drawn at the nominal size.  All shrink towards `lo`.
#pragma once

#include <rapidcheck.h>

#include <vector>

namespace bc::props {

template <class T> T any_in(T lo, T hi) { return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi)); }

// A flag that is set `percent` of the time and shrinks to false.
inline bool sometimes(int percent) { return any_in(0, 100) >= 100 - percent; }

template <class T> const T &pick(const std::vector<T> &v) { return v[any_in<size_t>(0, v.size())]; }

} // namespace bc::props
