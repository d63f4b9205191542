// Value-or-error for functions that fail on input. Collectors, parsers and the
// snapshot loader return Result; only main() turns errors into exit codes.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace dfa {

// What went wrong, in the words a user needs: where (file:line:col or a JSON
// pointer) and why. `kind` lets main() choose the documented exit code.
struct Error {
  enum class Kind { input, io, denied, absent, internal };
  Kind kind = Kind::input;
  std::string message;
};

inline Error input_error(std::string m) { return {Error::Kind::input, std::move(m)}; }
inline Error io_error(std::string m) { return {Error::Kind::io, std::move(m)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace dfa
