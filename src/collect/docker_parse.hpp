// Normalizes Docker Engine API answers (container inspect, network list)
// into the snapshot's docker section. Pure: unit tests feed it captured API
// responses from fixtures/.
#pragma once
#include "model/json_io.hpp"

namespace dfa {

Json normalize_container(const Json& inspect);
Json normalize_network(const Json& net);
// The Linux bridge device Docker uses for a bridge network.
std::string bridge_name_of(const Json& net);

}  // namespace dfa
