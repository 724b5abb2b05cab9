// carbonkube/error.hpp: the exception type every parser and builder throws for
// bad input. Its message always names the source, the object and the field, so
// a user can find what is wrong without a debugger. The scoring hot path never
// throws: inputs are validated when they are compiled.
#pragma once

#include <stdexcept>
#include <string>

#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

enum class ErrorKind {
  kInvalidInput,   // malformed document, bad value, unknown name
  kLimitExceeded,  // input larger than a configured limit
  kNotFound,       // a referenced object (node, profile, zone) does not exist
  kIo,             // a file could not be read
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

/// Thrown for malformed or semantically invalid input.
class InvalidInput : public Error {
 public:
  explicit InvalidInput(const std::string& message) : Error(ErrorKind::kInvalidInput, message) {}
};

CARBONKUBE_NAMESPACE_END
