// The documented exit codes (README.md, "Exit codes"). Scripts and CI gates
// depend on these numbers: never renumber.
#pragma once

namespace dfa {
enum ExitCode : int {
  kExitOk = 0,
  kExitFindings = 1,        // scan/drift: findings at or above --fail-on
  kExitUsage = 2,           // bad arguments or bad input (snapshot, daemon.json, ...)
  kExitCollectFailed = 3,   // no collector could read anything
  kExitOutputFailed = 4,    // the output file could not be written
};
}
