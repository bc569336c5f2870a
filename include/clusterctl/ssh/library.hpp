#pragma once
// What libssh2 and a process holding hundreds of sockets need once, in main, before any
// session exists: libssh2_init, SIGPIPE ignored, and a file-descriptor limit that fits.

#include <cstddef>
#include <string>

namespace clusterctl::ssh {

class Library {
public:
    Library();
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

// True when the linked libssh2 signs RSA user keys with rsa-sha2 (1.11 and later).
// Debian 12's 1.10 signs with SHA-1 only, which OpenSSH >= 8.8 refuses.
bool rsa_sha2_supported();

// "1.10.0"
std::string libssh2_version_string();

// Raises RLIMIT_NOFILE's soft limit to at least `wanted` (up to the hard limit).
// Returns a warning to show when it could not, empty otherwise.
std::string raise_fd_limit(std::size_t wanted);

} // namespace clusterctl::ssh
