// The host as a text file a repository can hold: the kernel's rules (nft
// listing style and iptables-save, one rule per line), Docker's settings and
// containers, what is published and listening, the network sysctls and the
// collectors. SARIF results point at its lines, so code scanning shows a
// finding whose cause lives only in the kernel (docs/findings.md, "SARIF").
#pragma once
#include <map>
#include <string>

#include "analyze/exposure.hpp"
#include "findings/findings.hpp"
#include "model/snapshot.hpp"

namespace dfa {

struct HostArtifact {
  std::string text;
  // What a finding's location names -> its line (1-based): "nft:inet/filter/input",
  // "nft inet filter input #3", "iptables-legacy:ipv4/nat/DOCKER",
  // "iptables-legacy ipv4 nat DOCKER #2", "sysctl:net.ipv4.ip_forward",
  // "docker:web", "socket:sshd 0.0.0.0:22/tcp", "exposure:WHAT",
  // "container:web", "dockerd", "dockerd:--iptables", "collector:nftables",
  // "file:/etc/docker/daemon.json:3", and a baseline's chain keys.
  std::map<std::string, int, std::less<>> lines;
  // The line of a finding's location: its rule if it names one, else its
  // logical location, else its file and line; 0 when the file has none.
  int line_of(const Location& l) const;
};

HostArtifact make_host_artifact(const Snapshot& s, const Exposure& exposure);

}  // namespace dfa
