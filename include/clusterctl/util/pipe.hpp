#pragma once
// A pipe whose two ends close themselves (and on exec: a child keeps only what it dup2s).

#include "clusterctl/util/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace clusterctl::util {

inline bool make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return true;
}

} // namespace clusterctl::util
