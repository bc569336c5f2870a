#pragma once
// Files written to one host over SFTP, non-blocking: each file goes to a temporary name
// beside its destination, gets its mode, and is renamed into place, so a reader never sees
// half a file. Directories are created as needed. libssh2 1.10: after EAGAIN a write is
// repeated with the same buffer, and writes are at least 32 KiB where the data allows.

#include "clusterctl/util/unique_fd.hpp"

#include <cstdint>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <optional>
#include <string>
#include <vector>

namespace clusterctl::ssh {

struct UploadItem {
    std::string local_path;             // read from here ...
    std::optional<std::string> content; // ... or written from memory
    std::string remote_path;
    int mode = 0644;
    bool directory = false;
};

// Where a file is written before it is renamed into place: PATH.clusterctl-partial.TAG,
// TAG the host's name (nodes on a shared filesystem write the same path at once).
std::string partial_path(const std::string& path, const std::string& tag);

class SftpUpload {
public:
    // `tag` (the host's name) makes the temporary name: PATH.clusterctl-partial.TAG.
    SftpUpload(LIBSSH2_SESSION* session, std::vector<UploadItem> items, std::string tag);
    ~SftpUpload();
    SftpUpload(const SftpUpload&) = delete;
    SftpUpload& operator=(const SftpUpload&) = delete;

    void advance();
    bool done() const { return m_step == Step::done || m_step == Step::failed; }
    bool failed() const { return m_step == Step::failed; }
    // The server has answered SFTP's start (its version).
    bool started() const { return m_step != Step::init; }
    const std::string& error() const { return m_error; }
    std::uint64_t bytes_written() const { return m_bytes; }

private:
    enum class Step {
        init,
        next,
        mkdir,
        stat_dir,
        open,
        write,
        setstat,
        close,
        unlink,
        rename,
        shutdown,
        done,
        failed
    };
    bool fill_buffer();
    void fail(const std::string& what);
    std::string temp_path() const;

    LIBSSH2_SESSION* m_session;
    LIBSSH2_SFTP* m_sftp = nullptr;
    LIBSSH2_SFTP_HANDLE* m_handle = nullptr;
    std::vector<UploadItem> m_items;
    std::size_t m_index = 0;
    Step m_step = Step::init;
    unsigned long m_mkdir_status = 0; // the SFTP status of the last mkdir refused
    std::string m_tag;
    int m_rename_tries = 0;
    util::UniqueFd m_local_fd;
    std::string m_buffer;
    std::size_t m_buffer_used = 0, m_buffer_sent = 0, m_content_offset = 0;
    bool m_local_eof = false;
    std::uint64_t m_bytes = 0;
    std::string m_error;
};

} // namespace clusterctl::ssh
