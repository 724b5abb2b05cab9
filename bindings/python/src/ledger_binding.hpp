// The ledger part of carbonkube._core (ledger.cpp) and what it reads from
// the handles core.cpp owns. The accessors take the _core objects a Python
// caller passed (alive for the call) and return their C handles; a wrong
// type raises TypeError.
#pragma once

#include <pybind11/pybind11.h>

#include <mutex>

#include "carbonkube.h"

// Ledger, MigrationAdvisor, Metrics, sci, budget_advice.
void bind_ledger(pybind11::module_& m);

// Defined in core.cpp.
void ck_python_check(ck_status status);  // raises the package's class for status
const ck_engine* engine_handle(const pybind11::handle& engine);
const ck_snapshot* snapshot_handle(const pybind11::handle& snapshot);
const ck_pod* pod_handle(const pybind11::handle& pod);
// The Signals' handle and *mutex (one writer at a time), not locked: lock it
// after releasing the GIL, and in the order cluster, signals, ledger.
const ck_signals* signals_handle(const pybind11::handle& signals, std::mutex** mutex);

// Defined in ledger.cpp: a Ledger's handle and *mutex, as signals_handle.
const ck_ledger* ledger_handle(const pybind11::handle& ledger, std::mutex** mutex);
