// Package carbonkube is a small Go wrapper over carbonkube's stable C ABI
// (capi/carbonkube.h, libcarbonkube_c.so), as a Go scheduler plugin, extender
// or QoS controller would use it.
//
// The handles mirror the C ones: an Engine (scheduling profiles, carbon QoS
// profiles, zone map) is immutable and shared by every goroutine; a Cluster
// is the single-writer state kept current from Node, Pod and
// CustomNodeResource objects; Signals hold carbon intensity series; a
// Snapshot is an immutable picture of a Cluster published for an Engine; a Pod
// is a Pod object compiled against a snapshot; a Context is one goroutine's
// scratch memory and random state for scoring. Each handle is freed by an
// explicit Close (idempotent); there are no finalizers, so a handle that is
// never closed leaks its C memory.
//
// Errors returned by the C library are *Error values carrying the ck_status
// and the message of ck_last_error(), read on the same OS thread as the
// failing call. errors.Is(err, carbonkube.StatusNotFound) tests the status.
//
// Build: the header comes from capi/ of this repository; the library from
// the environment, e.g.
//
//	CGO_LDFLAGS="-L$BUILD/lib -Wl,-rpath,$BUILD/lib" go test ./...
package carbonkube

/*
#cgo CFLAGS: -I${SRCDIR}/../../../capi
#cgo LDFLAGS: -lcarbonkube_c
#include <stdlib.h>
#include "carbonkube.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// HeaderVersionNumber is CK_VERSION_NUMBER of the header this package was
// compiled against (MAJOR*10000 + MINOR*100 + PATCH).
const HeaderVersionNumber = uint32(C.CK_VERSION_NUMBER)

// VersionNumber is ck_version_number(): the version of the library linked at
// run time. It is also the trivial call of the cgo overhead benchmark.
func VersionNumber() uint32 { return uint32(C.ck_version_number()) }

// Version is ck_version_string(), e.g. "0.1.0".
func Version() string { return C.GoString(C.ck_version_string()) }

// CheckVersion reports a mismatch between the header and the library.
func CheckVersion() error {
	if v := VersionNumber(); v/100 != HeaderVersionNumber/100 {
		return fmt.Errorf("carbonkube: library version %d does not match header version %d", v, HeaderVersionNumber)
	}
	return nil
}

// Status is a ck_status. It implements error so that
// errors.Is(err, StatusNotFound) works on an *Error.
type Status int32

// The ck_status values (pinned by the ABI).
const (
	StatusOK              Status = C.CK_OK
	StatusInvalidArgument Status = C.CK_ERROR_INVALID_ARGUMENT
	StatusInvalidInput    Status = C.CK_ERROR_INVALID_INPUT
	StatusLimitExceeded   Status = C.CK_ERROR_LIMIT_EXCEEDED
	StatusNotFound        Status = C.CK_ERROR_NOT_FOUND
	StatusBufferTooSmall  Status = C.CK_ERROR_BUFFER_TOO_SMALL
	StatusMismatch        Status = C.CK_ERROR_MISMATCH
	StatusOutOfMemory     Status = C.CK_ERROR_OUT_OF_MEMORY
	StatusInternal        Status = C.CK_ERROR_INTERNAL
)

var statusNames = func() [StatusInternal + 1]string {
	var names [StatusInternal + 1]string
	for i := range names {
		names[i] = C.GoString(C.ck_status_name(C.ck_status(i)))
	}
	return names
}()

// String is ck_status_name: "CK_OK", "CK_ERROR_NOT_FOUND", ...
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return C.GoString(C.ck_status_name(C.ck_status(s)))
}

// Error makes a Status usable as an errors.Is target.
func (s Status) Error() string { return s.String() }

// Error is a failed C call: its status, the C function, and the library's
// message (ck_last_error(), which already names the function).
type Error struct {
	Status  Status
	Op      string // the C function, e.g. "ck_engine_create"
	Message string // ck_last_error(); may be empty (CK_ERROR_OUT_OF_MEMORY)
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: %s", e.Status, e.Op)
	}
	return fmt.Sprintf("%s: %s", e.Status, e.Message)
}

// Is reports whether target is this error's Status.
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// lastError turns a status into an error. It must run on the OS thread that
// made the failing call (the caller holds runtime.LockOSThread), since
// ck_last_error() is thread-local.
func lastError(op string, st C.ck_status) error {
	if st == C.CK_OK {
		return nil
	}
	return &Error{Status: Status(st), Op: op, Message: C.GoString(C.ck_last_error())}
}

// goError is an argument error found on the Go side, before any C call.
func goError(op string, format string, args ...any) error {
	return &Error{Status: StatusInvalidArgument, Op: op, Message: op + ": " + fmt.Sprintf(format, args...)}
}

// locked runs a C call and turns its status into an error while the
// goroutine is locked to its OS thread, so that ck_last_error is the call's.
func locked(op string, call func() C.ck_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return lastError(op, call())
}

// Text passed as (pointer, length): Go memory without pointers may be passed
// to C for the duration of a call.
func bytesPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b)))
}

func stringPtr(s string) *C.char {
	if len(s) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s)))
}

// cBytes copies b into C memory (never NULL, even when empty: the C API tells
// a NULL document, meaning "the default", from an empty one). Free with C.free.
func cBytes(b []byte) *C.char {
	p := (*C.char)(C.malloc(C.size_t(len(b) + 1)))
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(p)), len(b)), b)
	}
	*(*byte)(unsafe.Add(unsafe.Pointer(p), len(b))) = 0
	return p
}

// cString is C.CString, or NULL for "".
func cStringOrNil(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// cArena collects C allocations made to build one call's arguments.
type cArena struct{ ptrs []unsafe.Pointer }

func (a *cArena) malloc(n uintptr) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	p := C.calloc(1, C.size_t(n))
	a.ptrs = append(a.ptrs, p)
	return p
}

func (a *cArena) str(s string) *C.char {
	p := C.CString(s)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p
}

// strings builds a C array of C strings; nil entries are "" unless nullEmpty.
func (a *cArena) strings(ss []string, nullEmpty bool) **C.char {
	arr := unsafe.Slice((**C.char)(a.malloc(uintptr(len(ss))*unsafe.Sizeof((*C.char)(nil)))), len(ss))
	for i, s := range ss {
		if nullEmpty && s == "" {
			arr[i] = nil
		} else {
			arr[i] = a.str(s)
		}
	}
	return unsafe.SliceData(arr)
}

// columns copies [resource][item] int64 columns into C memory and returns the
// C array of column pointers.
func (a *cArena) columns(cols [][]int64) **C.int64_t {
	arr := unsafe.Slice((**C.int64_t)(a.malloc(uintptr(len(cols))*unsafe.Sizeof((*C.int64_t)(nil)))), len(cols))
	for r, col := range cols {
		p := (*C.int64_t)(a.malloc(uintptr(len(col)) * 8))
		copy(unsafe.Slice((*int64)(unsafe.Pointer(p)), len(col)), col)
		arr[r] = p
	}
	return unsafe.SliceData(arr)
}

func (a *cArena) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}
