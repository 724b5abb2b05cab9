// The parts of carbonkube._core defined outside core.cpp.
#pragma once

#include <pybind11/pybind11.h>

// The allocator (allocator.cpp): class Allocator, apply_carbon_adjustments.
void bind_allocator(pybind11::module_& m);
