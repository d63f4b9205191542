// The Docker Engine API over its socket (libcurl): engine version, every
// container with its networks and port bindings, every network.
#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "collect/collect.hpp"
#include "collect/docker_parse.hpp"

namespace dfa {
namespace {

struct Endpoint {
  std::string display;      // as the user wrote it
  std::string unix_path;    // for unix://
  std::string base_url;     // http://localhost or http://host:port
};

Result<Endpoint> resolve_endpoint(const CollectOptions& o) {
  std::string h = o.docker_host;
  if (h.empty())
    if (const char* env = std::getenv("DOCKER_HOST"); env && *env) h = env;
  if (h.empty()) h = "unix:///var/run/docker.sock";
  Endpoint e{h, "", ""};
  if (h.rfind("unix://", 0) == 0) {
    e.unix_path = h.substr(7);
    e.base_url = "http://localhost";
  } else if (h.rfind("tcp://", 0) == 0) {
    e.base_url = "http://" + h.substr(6);
  } else {
    return input_error(fmt::format("unsupported Docker host \"{}\": use unix:///PATH or tcp://HOST:PORT", h));
  }
  return e;
}

class Curl {
 public:
  Curl() : h_(curl_easy_init()) {}
  ~Curl() {
    if (h_) curl_easy_cleanup(h_);
  }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  CURL* get() const { return h_; }

 private:
  CURL* h_;
};

// An answer larger than any snapshot may be is refused (curl then fails the
// transfer with CURLE_WRITE_ERROR), so a broken or hostile endpoint cannot
// make collect exhaust memory.
size_t sink(char* p, size_t size, size_t n, void* d) {
  auto* body = static_cast<std::string*>(d);
  if (body->size() + size * n > max_document_bytes()) return 0;
  body->append(p, size * n);
  return size * n;
}

struct HttpError {
  CollectorStatus status;
  std::string message;
};

class DockerClient {
 public:
  DockerClient(Endpoint e, int timeout_ms) : ep_(std::move(e)), timeout_ms_(timeout_ms) {}

  // GET path; on failure fills err and returns nullopt. One handle serves
  // every request, so libcurl keeps the connection to dockerd open instead
  // of connecting again for each of a host's hundreds of containers.
  std::optional<Json> get(const std::string& path, HttpError& err) {
    Curl& c = curl_;
    if (!c.get()) {
      err = {CollectorStatus::error, "curl_easy_init failed"};
      return std::nullopt;
    }
    std::string body;
    std::string url = ep_.base_url + path;
    curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
    if (!ep_.unix_path.empty()) curl_easy_setopt(c.get(), CURLOPT_UNIX_SOCKET_PATH, ep_.unix_path.c_str());
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c.get());
    if (rc != CURLE_OK) {
      long os_errno = 0;
      curl_easy_getinfo(c.get(), CURLINFO_OS_ERRNO, &os_errno);
      std::string why = os_errno ? std::strerror(static_cast<int>(os_errno)) : curl_easy_strerror(rc);
      if (rc == CURLE_WRITE_ERROR)
        why = fmt::format("the answer to {} is larger than {} MiB", path, max_document_bytes() >> 20);
      CollectorStatus st = (os_errno == EACCES || os_errno == EPERM) ? CollectorStatus::denied : CollectorStatus::error;
      std::string hint = st == CollectorStatus::denied ? " (run as root or a member of the docker group)"
                                                       : " (is dockerd running?)";
      err = {st, fmt::format("cannot reach the Docker API at {}: {}{}", ep_.display, why, hint)};
      return std::nullopt;
    }
    long code = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
      err = {CollectorStatus::error, fmt::format("Docker API {} answered HTTP {}: {}", path, code, body.substr(0, 200))};
      return std::nullopt;
    }
    auto j = parse_json_text(body, fmt::format("Docker API {}", path));
    if (!j) {
      err = {CollectorStatus::error, j.error().message};
      return std::nullopt;
    }
    return std::move(*j);
  }

 private:
  Endpoint ep_;
  int timeout_ms_;
  Curl curl_;
};

}  // namespace

namespace {

Collected read_docker_api(const CollectOptions& o) {
  auto ep = resolve_endpoint(o);
  if (!ep) return {{CollectorStatus::error, ep.error().message}, nullptr};
  if (!ep->unix_path.empty()) {
    struct stat st {};
    if (stat(ep->unix_path.c_str(), &st) != 0) {
      if (errno == ENOENT)
        return {{CollectorStatus::absent,
                 fmt::format("no Docker socket at {} (set DOCKER_HOST or --docker-host if Docker listens elsewhere)",
                             ep->unix_path)},
                nullptr};
      return {{errno == EACCES ? CollectorStatus::denied : CollectorStatus::error,
               fmt::format("{}: {}", ep->unix_path, std::strerror(errno))},
              nullptr};
    }
    if (!S_ISSOCK(st.st_mode))
      return {{CollectorStatus::error, fmt::format("{} is not a socket", ep->unix_path)}, nullptr};
  }
  DockerClient client(*ep, o.docker_timeout_ms);
  HttpError err{CollectorStatus::error, ""};
  auto version = client.get("/version", err);
  if (!version) return {{err.status, err.message}, nullptr};
  if (!version->is_object()) return {{CollectorStatus::error, "Docker API /version: expected an object"}, nullptr};
  Json data;
  data["endpoint"] = ep->display;
  data["engine_version"] = version->value("Version", "");
  data["api_version"] = version->value("ApiVersion", "");
  data["os"] = version->value("Os", "");
  data["arch"] = version->value("Arch", "");
  // Which firewall the daemon drives (API 1.49+, Docker 28.2 on: "iptables",
  // "nftables", with "+firewalld" when firewalld runs). Older daemons do not
  // say; an /info the client cannot read leaves it unsaid too, since the
  // containers below are what this collector is for.
  HttpError info_err{CollectorStatus::error, ""};
  if (auto info = client.get("/info", info_err); info && info->is_object())
    if (auto fb = info->find("FirewallBackend"); fb != info->end() && fb->is_object())
      if (auto d = fb->find("Driver"); d != fb->end() && d->is_string()) data["firewall_backend"] = *d;

  auto list = client.get("/containers/json?all=1", err);
  if (!list || !list->is_array()) return {{err.status, err.message.empty() ? "unexpected container list" : err.message}, nullptr};
  Json containers = Json::array();
  for (const auto& c : *list) {
    std::string id = c.is_object() ? c.value("Id", "") : "";
    // The id goes into a URL: only what Docker's ids are made of.
    if (id.empty() || id.find_first_not_of("0123456789abcdef") != std::string::npos)
      return {{CollectorStatus::error, fmt::format("Docker API /containers/json: an entry without a valid Id: {}",
                                                   c.dump(-1, ' ', false, Json::error_handler_t::replace).substr(0, 200))},
              nullptr};
    auto inspect = client.get("/containers/" + id + "/json", err);
    if (!inspect) {
      // A container removed between list and inspect is gone: skip it.
      if (err.message.find("HTTP 404") != std::string::npos) continue;
      return {{err.status, err.message}, nullptr};
    }
    // The normalizer reads what it finds and skips what it does not know
    // (versions differ); a container without a name or a state is no
    // container it can describe.
    auto has = [&](const char* k, bool (Json::*is)() const noexcept) {
      auto it = inspect->find(k);
      return it != inspect->end() && ((*it).*is)();
    };
    if (!inspect->is_object() || !has("Name", &Json::is_string) || !has("State", &Json::is_object))
      return {{CollectorStatus::error,
               fmt::format("Docker API /containers/{}/json: expected an object with \"Name\" (a string) and "
                           "\"State\" (an object)",
                           id)},
              nullptr};
    containers.push_back(normalize_container(*inspect));
  }
  std::sort(containers.begin(), containers.end(), [](const Json& a, const Json& b) { return a["name"] < b["name"]; });
  data["containers"] = std::move(containers);

  auto nets = client.get("/networks", err);
  if (!nets || !nets->is_array()) return {{err.status, err.message.empty() ? "unexpected network list" : err.message}, nullptr};
  Json networks = Json::array();
  for (const auto& n : *nets) networks.push_back(normalize_network(n));
  std::sort(networks.begin(), networks.end(), [](const Json& a, const Json& b) { return a["name"] < b["name"]; });
  data["networks"] = std::move(networks);
  return {{}, std::move(data)};
}

}  // namespace

Collected collect_docker_api(const CollectOptions& o) {
  // Answers of a shape the normalizers do not expect (a string where an
  // object belongs, a number for a name) end this collector with an error
  // that says so; the other collectors go on.
  try {
    return read_docker_api(o);
  } catch (const Json::exception& e) {
    return {{CollectorStatus::error, fmt::format("the Docker API answered in a shape dockfw-audit does not know: {}",
                                                 e.what())},
            nullptr};
  }
}

}  // namespace dfa
