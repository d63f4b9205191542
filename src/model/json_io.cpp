#include "model/json_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

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
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    Error err{e == ENOENT ? Error::Kind::absent
                          : (e == EACCES || e == EPERM ? Error::Kind::denied : Error::Kind::io),
              fmt::format("{}: cannot open: {}", path, std::strerror(e))};
    return err;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return io_error(fmt::format("{}: read error", path));
  return ss.str();
}

Result<Json> parse_json_text(std::string_view text, const std::string& name) {
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

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<bool> write_text_file(const std::string& path, std::string_view text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
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
