#include "clusterctl/ssh/library.hpp"

#include <csignal>
#include <fmt/format.h>
#include <libssh2.h>
#include <sys/resource.h>

namespace clusterctl::ssh {

Library::Library() {
    libssh2_init(0);
    std::signal(SIGPIPE, SIG_IGN);
}

Library::~Library() {
    libssh2_exit();
}

bool rsa_sha2_supported() {
    return libssh2_version(0x010b00) != nullptr;
}

std::string libssh2_version_string() {
    const char* v = libssh2_version(0);
    return v ? v : "unknown";
}

std::string raise_fd_limit(std::size_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) return {};
    rlim_t target =
        limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, limit.rlim_max);
    if (target > limit.rlim_cur) {
        limit.rlim_cur = target;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (target >= wanted) return {};
    return fmt::format("the open-file limit is {} (hard limit) and this run wants {}; hosts beyond "
                       "it will fail to connect: raise it with 'ulimit -n {}' or lower --fanout",
                       static_cast<unsigned long long>(target), wanted, wanted);
}

} // namespace clusterctl::ssh
