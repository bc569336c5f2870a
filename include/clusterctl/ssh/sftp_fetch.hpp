#pragma once
// A file or a directory tree read from one host over SFTP into a local directory,
// non-blocking: `download: distribute: true` brings the first node's download here, then
// pushes it to the other nodes. Directories are walked breadth first; each file is written
// to LOCAL/relative path with its mode. libssh2 1.10: a read that returned EAGAIN is
// repeated with the same arguments.

#include "clusterctl/util/unique_fd.hpp"

#include <cstdint>
#include <deque>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <string>

namespace clusterctl::ssh {

class SftpFetch {
public:
    // `remote`: a file or directory on the host; `local`: the directory it lands in (its
    // content: LOCAL/x for REMOTE/x), created as needed.
    SftpFetch(LIBSSH2_SESSION* session, std::string remote, std::string local);
    ~SftpFetch();
    SftpFetch(const SftpFetch&) = delete;
    SftpFetch& operator=(const SftpFetch&) = delete;

    void advance();
    bool done() const { return m_step == Step::done || m_step == Step::failed; }
    bool failed() const { return m_step == Step::failed; }
    // The server has answered SFTP's start (its version).
    bool started() const { return m_step != Step::init; }
    const std::string& error() const { return m_error; }
    std::uint64_t bytes_read() const { return m_bytes; }

private:
    enum class Step {
        init,
        stat,
        open_dir,
        read_dir,
        close_dir,
        next_file,
        open_file,
        read,
        close_file,
        shutdown,
        done,
        failed
    };
    void fail(const std::string& what);
    bool local_error(const std::string& what);

    LIBSSH2_SESSION* m_session;
    LIBSSH2_SFTP* m_sftp = nullptr;
    LIBSSH2_SFTP_HANDLE* m_handle = nullptr;
    std::string m_remote, m_local;
    Step m_step = Step::init;
    std::deque<std::string> m_dirs;                  // relative paths still to list
    std::deque<std::pair<std::string, int>> m_files; // relative path, mode
    std::string m_current;                           // the directory or file at hand
    int m_current_mode = 0644;
    util::UniqueFd m_local_fd;
    std::string m_buffer;
    std::uint64_t m_bytes = 0;
    std::string m_error;
};

} // namespace clusterctl::ssh
