#include "model/json_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include <sys/stat.h>

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

Result<std::string> read_text_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    int e = errno;
    Error err{e == ENOENT ? Error::Kind::absent
                          : (e == EACCES || e == EPERM ? Error::Kind::denied : Error::Kind::io),
              fmt::format("{}: cannot open: {}", path, std::strerror(e))};
    return err;
  }
  // One read into a buffer of the file's size (snapshots are tens of MB);
  // files whose size is unknown (pipes, /proc) grow as they are read.
  std::string text;
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get())) return io_error(fmt::format("{}: read error: {}", path, std::strerror(errno)));
  return text;
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

Result<Json> parse_json_text(std::string_view text, const std::string& name) {
  // simdjson reads a large snapshot several times faster than nlohmann's
  // lexer; what it rejects goes the nlohmann way, which reads the JSON it
  // does not (huge integers, deep nesting) and names the error's position.
  {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    Json j;
    if (parser.parse(text.data(), text.size(), true).get(root) == simdjson::SUCCESS) {
      from_simdjson(root, j);
      return j;
    }
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
  }
}

Result<Json> read_json_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_json_text(*text, path);
}

const Json& array_member(const Json& j, const char* key) {
  static const Json empty = Json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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

Result<bool> write_json_file(const std::string& path, const Json& j, int indent) {
  bool to_stdout = path == "-";
  std::string tmp = path + ".tmp";
  std::FILE* f = to_stdout ? stdout : std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error(fmt::format("{}: cannot write: {}", tmp, std::strerror(errno)));
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  nlohmann::detail::serializer<Json> ser(std::make_shared<FileOutput>(f), ' ',
                                         nlohmann::json::error_handler_t::replace);
  ser.dump(j, indent >= 0, false, indent >= 0 ? static_cast<unsigned>(indent) : 0);
  std::fputc('\n', f);
  bool ok = std::fflush(f) == 0 && !std::ferror(f);
  int e = errno;
  std::setvbuf(f, nullptr, _IOFBF, BUFSIZ);
  if (to_stdout) {
    if (!ok) return io_error(fmt::format("standard output: write failed: {}", std::strerror(e)));
    return true;
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return io_error(fmt::format("{}: write failed: {}", tmp, std::strerror(e)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    e = errno;
    std::remove(tmp.c_str());
    return io_error(fmt::format("{}: cannot rename into place: {}", path, std::strerror(e)));
  }
  return true;
}

Result<bool> write_text_file(const std::string& path, std::string_view text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      return io_error(fmt::format("standard output: write failed: {}", std::strerror(errno)));
    return true;
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return io_error(fmt::format("{}: cannot write: {}", tmp, std::strerror(errno)));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) return io_error(fmt::format("{}: write failed: {}", tmp, std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return io_error(fmt::format("{}: cannot rename into place: {}", path, std::strerror(e)));
  }
  return true;
}

}  // namespace dfa
