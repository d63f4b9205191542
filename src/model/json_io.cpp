#include "model/json_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include <simdjson.h>

namespace dfa {

TextPos pos_of(std::string_view text, std::size_t byte_offset) {
  TextPos p;
  for (std::size_t i = 0; i < byte_offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

void json_precondition_failed(const char* what) {
  throw std::logic_error(fmt::format("JSON precondition failed: {}", what));
}

std::size_t max_document_bytes() {
  static const std::size_t bound = [] {
    const char* v = std::getenv("DFA_MAX_INPUT_MB");
    char* end = nullptr;
    unsigned long long mb = v ? std::strtoull(v, &end, 10) : 0;
    return v && *v && end && !*end && mb > 0 && mb < (1ull << 20) ? static_cast<std::size_t>(mb) << 20
                                                                 : kMaxDocumentBytes;
  }();
  return bound;
}

namespace {

Error open_error(const std::string& path, int e) {
  return {e == ENOENT ? Error::Kind::absent : (e == EACCES || e == EPERM ? Error::Kind::denied : Error::Kind::io),
          fmt::format("{}: cannot open: {}", path, std::strerror(e))};
}

const char* file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

std::string mib(std::size_t bytes) { return fmt::format("{} MiB", bytes >> 20); }

// Reads fd to its end, but never more than max_bytes.
Result<std::string> read_bounded(int fd, const std::string& name, std::size_t max_bytes, std::size_t size_hint) {
  std::string text;
  if (size_hint) text.reserve(std::min(size_hint, max_bytes) + 1);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(fmt::format("{}: read error: {}", name, std::strerror(errno)));
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > max_bytes)
      return input_error(fmt::format("{}: larger than the limit of {} for this kind of input (README, \"Input limits\")",
                                     name, mib(max_bytes)));
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::string> read_input_file(const std::string& path, std::size_t max_bytes) {
  if (path == "-") return read_bounded(0, "standard input", max_bytes, 0);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) return open_error(path, errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return io_error(fmt::format("{}: cannot stat: {}", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return input_error(fmt::format("{}: {}, not a regular file; name a file, or - for standard input", path,
                                   file_kind(st.st_mode)));
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return input_error(fmt::format("{}: {} bytes, larger than the limit of {} for this kind of input (README, "
                                   "\"Input limits\")",
                                   path, st.st_size, mib(max_bytes)));
  ::fcntl(f.fd, F_SETFL, ::fcntl(f.fd, F_GETFL) & ~O_NONBLOCK);
  return read_bounded(f.fd, path, max_bytes, static_cast<std::size_t>(st.st_size));
}

Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) return open_error(path, errno);
  // One read into a buffer of the file's size where it is known; files whose
  // size is not (pipes, /proc) grow as they are read.
  struct stat st {};
  std::size_t hint = ::fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : 0;
  return read_bounded(f.fd, path, max_bytes, hint);
}

namespace {

// simdjson's document as ours: the same tree Json::parse makes (integers
// from 0 up unsigned, duplicate keys keep the last value at the first place;
// "-0" alone reads as unsigned 0 where nlohmann makes it signed). simdjson
// refuses what nlohmann refuses (unescaped control characters, lone
// surrogates) and some things nlohmann takes (integers beyond 64 bits,
// nesting deeper than 1024), which the caller then parses the nlohmann way.
void from_simdjson(simdjson::dom::element e, Json& out) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::ARRAY: {
      auto arr = e.get_array().value_unsafe();
      out = Json(Json::value_t::array);
      auto& v = out.get_ref<Json::array_t&>();
      v.reserve(arr.size());
      for (auto x : arr) from_simdjson(x, v.emplace_back());
      return;
    }
    case T::OBJECT: {
      auto obj = e.get_object().value_unsafe();
      out = Json(Json::value_t::object);
      auto& m = out.get_ref<Json::object_t&>();
      m.reserve(obj.size());
      for (auto kv : obj) {
        auto it = std::find_if(m.begin(), m.end(), [&](const auto& p) { return p.first == kv.key; });
        from_simdjson(kv.value, it != m.end() ? it->second : m.emplace_back(std::string(kv.key), nullptr).second);
      }
      return;
    }
    case T::INT64: {
      int64_t i = e.get_int64().value_unsafe();
      out = i >= 0 ? Json(static_cast<uint64_t>(i)) : Json(i);
      return;
    }
    case T::UINT64: out = e.get_uint64().value_unsafe(); return;
    case T::DOUBLE: out = e.get_double().value_unsafe(); return;
    case T::BOOL: out = e.get_bool().value_unsafe(); return;
    case T::NULL_VALUE: out = nullptr; return;
    case T::STRING: out = std::string(e.get_string().value_unsafe()); return;
  }
}

}  // namespace

namespace {

// What nlohmann would read but no reader here may take: nesting deeper than
// kMaxJsonDepth (recursive readers would need its stack, and a file of
// brackets gigabytes of nodes) and numbers beyond a double (1e309), which
// nlohmann throws on. The offset of the first such token and what it is.
std::optional<std::pair<std::size_t, std::string>> beyond_limits(std::string_view t) {
  std::size_t depth = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '"') {
      for (++i; i < t.size() && t[i] != '"'; ++i)
        if (t[i] == '\\') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return std::pair{i, fmt::format("nested deeper than {} levels", kMaxJsonDepth)};
    } else if (c == ']' || c == '}') {
      if (depth) --depth;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t j = i;
      bool real = false;
      while (j < t.size() && (std::isdigit(static_cast<unsigned char>(t[j])) || std::strchr("+-.eE", t[j]))) {
        real |= t[j] == '.' || t[j] == 'e' || t[j] == 'E';
        ++j;
      }
      if (real && std::isinf(std::strtod(std::string(t.substr(i, j - i)).c_str(), nullptr)))
        return std::pair{i, fmt::format("number {} is out of range", t.substr(i, std::min<std::size_t>(j - i, 40)))};
      i = j - 1;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Json> parse_json_text(std::string_view text, const std::string& name) {
  // simdjson reads a large snapshot several times faster than nlohmann's
  // lexer; what it rejects goes the nlohmann way, which reads the JSON it
  // does not (integers beyond 64 bits) and names the error's position.
  {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    Json j;
    if (parser.allocate(std::max<std::size_t>(text.size(), 64), kMaxJsonDepth) == simdjson::SUCCESS &&
        parser.parse(text.data(), text.size(), true).get(root) == simdjson::SUCCESS) {
      from_simdjson(root, j);
      return j;
    }
  }
  if (auto bad = beyond_limits(text)) {
    TextPos p = pos_of(text, bad->first);
    return input_error(fmt::format("{}:{}:{}: {}", name, p.line, p.column, bad->second));
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann reports the byte just past the offending token; point at the
    // token's first character, where a reader would put the cursor.
    std::size_t at = e.byte > 0 ? std::min<std::size_t>(e.byte - 1, text.size() ? text.size() - 1 : 0) : 0;
    if (at < text.size() && text[at] == '"') {
      while (at > 0 && !(text[at - 1] == '"' && (at < 2 || text[at - 2] != '\\'))) --at;
      if (at > 0) --at;
    } else {
      auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+'; };
      while (at > 0 && at < text.size() && word(text[at]) && word(text[at - 1])) --at;
    }
    TextPos p = pos_of(text, at);
    std::string what = e.what();
    // Strip nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (auto k = what.find(": "); k != std::string::npos && what.rfind("[json.exception", 0) == 0)
      what = what.substr(k + 2);
    return input_error(fmt::format("{}:{}:{}: {}", name, p.line, p.column, what));
  } catch (const Json::exception& e) {
    return input_error(fmt::format("{}: {}", name, e.what()));
  }
}

Result<Json> read_json_file(const std::string& path, std::size_t max_bytes) {
  auto text = read_input_file(path, max_bytes);
  if (!text) return text.error();
  return parse_json_text(*text, path);
}

Json object_with_room(std::size_t n) {
  Json j = Json::object();
  j.get_ref<Json::object_t&>().reserve(n);
  return j;
}

const Json& array_member(const Json& j, const char* key) {
  static const Json empty = Json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::string string_member(const Json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void JsonWriter::next() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (empty_.empty()) return;
  if (!empty_.back()) b_ += ',';
  empty_.back() = false;
  if (pretty_) {
    b_ += '\n';
    b_.append(std::size_t(2 * depth_), ' ');
  }
}

void JsonWriter::open(char c) {
  next();
  b_ += c;
  empty_.push_back(true);
  ++depth_;
}

void JsonWriter::close(char c) {
  --depth_;
  if (pretty_ && !empty_.back()) {
    b_ += '\n';
    b_.append(std::size_t(2 * depth_), ' ');
  }
  empty_.pop_back();
  b_ += c;
}

void JsonWriter::key(std::string_view name) {
  next();
  quote(name);
  b_ += pretty_ ? ": " : ":";
  after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
  next();
  quote(s);
}

void JsonWriter::quote(std::string_view s) {
  // Printable ASCII without a quote or backslash is written as it is, as
  // nlohmann writes it (most strings: addresses, labels, rule text); the
  // rest through nlohmann, which escapes and replaces invalid UTF-8.
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  if (!plain) {
    b_ += Json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  b_ += '"';
  b_ += s;
  b_ += '"';
}

void JsonWriter::number(long long n) {
  next();
  fmt::format_to(std::back_inserter(b_), "{}", n);
}

void JsonWriter::boolean(bool b) {
  next();
  b_ += b ? "true" : "false";
}

void JsonWriter::null() {
  next();
  b_ += "null";
}

void JsonWriter::raw(std::string_view text) {
  next();
  b_ += text;
}

void JsonWriter::value(const Json& j) {
  next();
  std::string t = j.dump(pretty_ ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!pretty_ || depth_ == 0) {
    b_ += t;
    return;
  }
  const std::string indent(std::size_t(2 * depth_), ' ');
  std::size_t from = 0;
  for (std::size_t nl; (nl = t.find('\n', from)) != std::string::npos; from = nl + 1) {
    b_.append(t, from, nl + 1 - from);
    b_ += indent;
  }
  b_.append(t, from);
}

namespace {
// A FILE* as an nlohmann output adapter.
class FileOutput : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  explicit FileOutput(std::FILE* f) : f_(f) {}
  void write_character(char c) override { std::fputc(c, f_); }
  void write_characters(const char* s, std::size_t n) override { std::fwrite(s, 1, n, f_); }

 private:
  std::FILE* f_;
};
}  // namespace

namespace {

// Where an output goes: standard output, straight into a target that is not
// a regular file, or into a new temporary beside the target that commit()
// renames over it (removed when not committed).
class OutputFile {
 public:
  static Result<OutputFile> open(const std::string& path) {
    OutputFile o;
    o.path_ = path;
    if (path == "-") {
      o.f_ = stdout;
      return o;
    }
    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
      // /dev/null, /dev/stdout, a FIFO: written to, never replaced.
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) return io_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
      o.f_ = ::fdopen(fd, "wb");
      return o;
    }
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    static const char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 100; ++attempt) {
      unsigned char rnd[8];
      if (::getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
        return io_error(fmt::format("{}: cannot write: no random bytes for a temporary name", path));
      std::string tmp = fmt::format("{}.{}.", dir, base);
      for (unsigned char r : rnd) tmp += kAlnum[r % (sizeof kAlnum - 1)];
      // O_EXCL|O_NOFOLLOW: a file or link planted under the name is never
      // opened; another name is drawn.
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd < 0) {
        if (errno == EEXIST || errno == ELOOP) continue;
        return io_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
      }
      if (exists) {
        // The replaced file keeps its permissions and, where allowed, owner.
        (void)::fchmod(fd, st.st_mode & 07777);
        (void)!::fchown(fd, st.st_uid, st.st_gid);
      }
      o.tmp_ = tmp;
      o.f_ = ::fdopen(fd, "wb");
      if (!o.f_) {
        ::close(fd);
        return io_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
      }
      return o;
    }
    return io_error(fmt::format("{}: cannot write: no free temporary name beside it", path));
  }

  OutputFile() = default;
  OutputFile(OutputFile&& o) noexcept : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), f_(std::exchange(o.f_, nullptr)) {}
  OutputFile& operator=(OutputFile&&) = delete;
  ~OutputFile() {
    if (f_ && f_ != stdout) std::fclose(f_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  std::FILE* get() const { return f_; }
  bool to_stdout() const { return f_ == stdout; }

  // Flushes (and closes and renames, for a file); a failure names the target.
  Result<bool> commit() {
    bool ok = std::fflush(f_) == 0 && !std::ferror(f_);
    int e = errno;
    if (to_stdout()) {
      if (!ok) return io_error(fmt::format("standard output: write failed: {}", std::strerror(e)));
      return true;
    }
    ok = std::fclose(std::exchange(f_, nullptr)) == 0 && ok;
    if (!ok) {
      if (!e) e = errno;
      return io_error(fmt::format("{}: write failed: {}", path_, std::strerror(e)));
    }
    if (!tmp_.empty()) {
      if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
        return io_error(fmt::format("{}: cannot rename into place: {}", path_, std::strerror(errno)));
      tmp_.clear();
    }
    return true;
  }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
};

}  // namespace

Result<bool> write_json_file(const std::string& path, const Json& j, int indent) {
  auto out = OutputFile::open(path);
  if (!out) return out.error();
  std::FILE* f = out->get();
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  nlohmann::detail::serializer<Json> ser(std::make_shared<FileOutput>(f), ' ',
                                         nlohmann::json::error_handler_t::replace);
  ser.dump(j, indent >= 0, false, indent >= 0 ? static_cast<unsigned>(indent) : 0);
  std::fputc('\n', f);
  auto done = out->commit();
  // stdout outlives buf: give it back its own buffer.
  if (out->to_stdout()) std::setvbuf(f, nullptr, _IOFBF, BUFSIZ);
  return done;
}

Result<bool> write_text_file(const std::string& path, std::string_view text) {
  auto out = OutputFile::open(path);
  if (!out) return out.error();
  std::fwrite(text.data(), 1, text.size(), out->get());
  return out->commit();
}

}  // namespace dfa
