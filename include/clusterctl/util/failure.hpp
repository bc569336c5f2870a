#pragma once
// Why something failed, in which stage, and whether trying again may help: the one Failure
// of clusterctl. A host's connection fails with one ("connect", "handshake", "hostkey",
// "auth", "lost", ...), so does any transport's link. (A Result's error is a Diagnostic,
// carried by util::Unexpected.)

#include <string>

namespace clusterctl::util {

struct Failure {
    std::string stage;
    std::string message;
    bool retryable = false; // a connection failure that --retries may try again
};

} // namespace clusterctl::util
