#include "clusterctl/ssh/sftp_upload.hpp"

#include "sftp_error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace clusterctl::ssh {
namespace {
constexpr std::size_t k_chunk = 1024 * 1024;
}

SftpUpload::SftpUpload(LIBSSH2_SESSION* session, std::vector<UploadItem> items, std::string tag)
    : m_session(session), m_items(std::move(items)), m_tag(std::move(tag)) {}

SftpUpload::~SftpUpload() {
    // Handles and the SFTP channel left open by a failure go with the session.
}

std::string partial_path(const std::string& path, const std::string& tag) {
    return path + ".clusterctl-partial." + tag;
}

std::string SftpUpload::temp_path() const {
    // Tagged with the host: nodes on a shared filesystem write the same path at once.
    return partial_path(m_items[m_index].remote_path, m_tag);
}

void SftpUpload::fail(const std::string& what) {
    m_error = sftp_error(m_session, m_sftp, what);
    m_step = Step::failed;
}

// Refills the buffer from the file or the in-memory content. False on a read error.
bool SftpUpload::fill_buffer() {
    const UploadItem& item = m_items[m_index];
    m_buffer_sent = 0;
    if (item.content) {
        std::size_t n = std::min(k_chunk, item.content->size() - m_content_offset);
        m_buffer.assign(item.content->data() + m_content_offset, n);
        m_content_offset += n;
        m_buffer_used = n;
        m_local_eof = m_content_offset == item.content->size();
        return true;
    }
    m_buffer.resize(k_chunk);
    ssize_t n = ::read(m_local_fd.get(), m_buffer.data(), k_chunk);
    if (n < 0) {
        m_error = fmt::format("reading '{}': {}", item.local_path, std::strerror(errno));
        m_step = Step::failed;
        return false;
    }
    m_buffer_used = static_cast<std::size_t>(n);
    m_local_eof = n == 0;
    return true;
}

void SftpUpload::advance() {
    for (;;) {
        const UploadItem* item = m_index < m_items.size() ? &m_items[m_index] : nullptr;
        switch (m_step) {
        case Step::init:
            m_sftp = libssh2_sftp_init(m_session);
            if (!m_sftp) {
                if (libssh2_session_last_errno(m_session) == LIBSSH2_ERROR_EAGAIN) return;
                return fail("starting SFTP");
            }
            m_step = Step::next;
            break;
        case Step::next:
            if (!item) {
                m_step = Step::shutdown;
                break;
            }
            m_step = item->directory ? Step::mkdir : Step::open;
            break;
        case Step::mkdir: {
            int rc = libssh2_sftp_mkdir(m_sftp, item->remote_path.c_str(), item->mode | 0700);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            if (rc != 0) {
                // OpenSSH answers "failure" for a directory that exists: look before failing.
                m_mkdir_status = sftp_status(m_session, m_sftp);
                m_step = Step::stat_dir;
                break;
            }
            ++m_index;
            m_step = Step::next;
            break;
        }
        case Step::stat_dir: {
            LIBSSH2_SFTP_ATTRIBUTES attrs{};
            int rc = libssh2_sftp_stat(m_sftp, item->remote_path.c_str(), &attrs);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            if (rc != 0 && m_mkdir_status == LIBSSH2_FX_NO_SUCH_FILE) {
                m_error = missing_folder_error(item->remote_path);
                m_step = Step::failed;
                return;
            }
            if (rc == 0 && !LIBSSH2_SFTP_S_ISDIR(attrs.permissions)) {
                m_error = fmt::format("cannot create the folder {}: a file of that name is there",
                                      item->remote_path);
                m_step = Step::failed;
                return;
            }
            if (rc != 0) return fail(fmt::format("creating the folder {}", item->remote_path));
            ++m_index;
            m_step = Step::next;
            break;
        }
        case Step::open: {
            if (!item->content && !m_local_fd) {
                m_local_fd.reset(::open(item->local_path.c_str(), O_RDONLY | O_CLOEXEC));
                if (!m_local_fd) {
                    m_error =
                        fmt::format("reading '{}': {}", item->local_path, std::strerror(errno));
                    m_step = Step::failed;
                    return;
                }
            }
            std::string temp = temp_path();
            m_handle = libssh2_sftp_open(m_sftp, temp.c_str(),
                                         LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
                                         item->mode);
            if (!m_handle) {
                if (libssh2_session_last_errno(m_session) == LIBSSH2_ERROR_EAGAIN) return;
                if (sftp_status(m_session, m_sftp) == LIBSSH2_FX_NO_SUCH_FILE) {
                    m_error = missing_folder_error(item->remote_path);
                    m_step = Step::failed;
                    return;
                }
                return fail(fmt::format("creating {}", item->remote_path));
            }
            m_content_offset = 0;
            m_local_eof = false;
            if (!fill_buffer()) return;
            m_step = Step::write;
            break;
        }
        case Step::write:
            while (m_buffer_sent < m_buffer_used) {
                ssize_t n = libssh2_sftp_write(m_handle, m_buffer.data() + m_buffer_sent,
                                               m_buffer_used - m_buffer_sent);
                if (n == LIBSSH2_ERROR_EAGAIN) return;
                if (n < 0) return fail(fmt::format("writing {}", item->remote_path));
                m_buffer_sent += static_cast<std::size_t>(n);
                m_bytes += static_cast<std::uint64_t>(n);
            }
            if (!m_local_eof) {
                if (!fill_buffer()) return;
                if (m_buffer_used > 0) break;
            }
            m_step = Step::setstat;
            break;
        case Step::setstat: {
            // The server's umask applies to open's mode; set it exactly.
            LIBSSH2_SFTP_ATTRIBUTES attrs{};
            attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
            attrs.permissions = static_cast<unsigned long>(item->mode);
            int rc = libssh2_sftp_fsetstat(m_handle, &attrs);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            if (rc != 0) return fail(fmt::format("setting the mode of {}", item->remote_path));
            m_step = Step::close;
            break;
        }
        case Step::close: {
            int rc = libssh2_sftp_close(m_handle);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            m_handle = nullptr;
            if (rc != 0) return fail(fmt::format("closing {}", item->remote_path));
            m_local_fd.reset();
            m_step = Step::unlink;
            break;
        }
        case Step::unlink: {
            // SFTP v3 (OpenSSH) rename does not replace an existing file.
            int rc = libssh2_sftp_unlink(m_sftp, item->remote_path.c_str());
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            m_step = Step::rename;
            break;
        }
        case Step::rename: {
            std::string temp = temp_path();
            int rc = libssh2_sftp_rename(m_sftp, temp.c_str(), item->remote_path.c_str());
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            if (rc != 0 && ++m_rename_tries < 5) {
                // Another node of a shared filesystem put the file there between our
                // unlink and rename: same content, replace it again.
                m_step = Step::unlink;
                break;
            }
            if (rc != 0) return fail(fmt::format("renaming {} to {}", temp, item->remote_path));
            m_rename_tries = 0;
            ++m_index;
            m_step = Step::next;
            break;
        }
        case Step::shutdown: {
            int rc = libssh2_sftp_shutdown(m_sftp);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            m_sftp = nullptr;
            m_step = Step::done;
            return;
        }
        case Step::done:
        case Step::failed:
            return;
        }
    }
}

} // namespace clusterctl::ssh
