#include "clusterctl/ssh/sftp_fetch.hpp"

#include "sftp_error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace clusterctl::ssh {
namespace {

constexpr std::size_t k_chunk = 256 * 1024;

std::string joined(const std::string& base, const std::string& relative) {
    return relative.empty() ? base : base + "/" + relative;
}

} // namespace

SftpFetch::SftpFetch(LIBSSH2_SESSION* session, std::string remote, std::string local)
    : m_session(session), m_remote(std::move(remote)), m_local(std::move(local)) {
    m_buffer.resize(k_chunk);
}

SftpFetch::~SftpFetch() {
    // Handles and the SFTP channel left open by a failure go with the session.
}

void SftpFetch::fail(const std::string& what) {
    m_error = sftp_error(m_session, m_sftp, what);
    m_step = Step::failed;
}

bool SftpFetch::local_error(const std::string& what) {
    m_error = fmt::format("{}: {}", what, std::strerror(errno));
    m_step = Step::failed;
    return false;
}

void SftpFetch::advance() {
    for (;;) {
        switch (m_step) {
        case Step::init:
            m_sftp = libssh2_sftp_init(m_session);
            if (!m_sftp) {
                if (libssh2_session_last_errno(m_session) == LIBSSH2_ERROR_EAGAIN) return;
                return fail("starting SFTP");
            }
            m_step = Step::stat;
            break;
        case Step::stat: {
            LIBSSH2_SFTP_ATTRIBUTES attrs{};
            int rc = libssh2_sftp_stat(m_sftp, m_remote.c_str(), &attrs);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            if (rc != 0) return fail(fmt::format("reading {}", m_remote));
            std::error_code ec;
            std::filesystem::create_directories(m_local, ec);
            if (ec) {
                m_error = fmt::format("creating {}: {}", m_local, ec.message());
                m_step = Step::failed;
                return;
            }
            if (LIBSSH2_SFTP_S_ISDIR(attrs.permissions)) {
                m_dirs.push_back("");
                m_step = Step::open_dir;
            } else {
                // One file: it lands as LOCAL/its name.
                std::string name = m_remote.substr(m_remote.rfind('/') + 1);
                m_remote = m_remote.substr(0, m_remote.size() - name.size());
                if (!m_remote.empty() && m_remote.back() == '/') m_remote.pop_back();
                m_files.push_back({name, static_cast<int>(attrs.permissions & 07777)});
                m_step = Step::next_file;
            }
            break;
        }
        case Step::open_dir: {
            if (m_dirs.empty()) {
                m_step = Step::next_file;
                break;
            }
            m_current = m_dirs.front();
            std::string path = joined(m_remote, m_current);
            m_handle = libssh2_sftp_opendir(m_sftp, path.c_str());
            if (!m_handle) {
                if (libssh2_session_last_errno(m_session) == LIBSSH2_ERROR_EAGAIN) return;
                return fail(fmt::format("listing {}", path));
            }
            m_dirs.pop_front();
            if (::mkdir(joined(m_local, m_current).c_str(), 0755) != 0 && errno != EEXIST &&
                !local_error("creating " + joined(m_local, m_current)))
                return;
            m_step = Step::read_dir;
            break;
        }
        case Step::read_dir: {
            char name[512];
            LIBSSH2_SFTP_ATTRIBUTES attrs{};
            int n = libssh2_sftp_readdir(m_handle, name, sizeof name, &attrs);
            if (n == LIBSSH2_ERROR_EAGAIN) return;
            if (n < 0) return fail(fmt::format("listing {}", joined(m_remote, m_current)));
            if (n == 0) {
                m_step = Step::close_dir;
                break;
            }
            std::string entry(name, static_cast<std::size_t>(n));
            if (entry == "." || entry == "..") break;
            std::string relative = joined(m_current, entry);
            if (LIBSSH2_SFTP_S_ISDIR(attrs.permissions))
                m_dirs.push_back(relative);
            else if (LIBSSH2_SFTP_S_ISREG(attrs.permissions))
                m_files.push_back({relative, static_cast<int>(attrs.permissions & 07777)});
            break;
        }
        case Step::close_dir: {
            int rc = libssh2_sftp_closedir(m_handle);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            m_handle = nullptr;
            m_step = Step::open_dir;
            break;
        }
        case Step::next_file:
            if (m_files.empty()) {
                m_step = Step::shutdown;
                break;
            }
            m_current = m_files.front().first;
            m_current_mode = m_files.front().second;
            m_files.pop_front();
            m_step = Step::open_file;
            break;
        case Step::open_file: {
            std::string path = joined(m_remote, m_current);
            m_handle = libssh2_sftp_open(m_sftp, path.c_str(), LIBSSH2_FXF_READ, 0);
            if (!m_handle) {
                if (libssh2_session_last_errno(m_session) == LIBSSH2_ERROR_EAGAIN) return;
                return fail(fmt::format("opening {}", path));
            }
            std::string local = joined(m_local, m_current);
            m_local_fd.reset(::open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                    m_current_mode | 0600));
            if (!m_local_fd && !local_error("writing " + local)) return;
            ::fchmod(m_local_fd.get(), static_cast<mode_t>(m_current_mode));
            m_step = Step::read;
            break;
        }
        case Step::read: {
            ssize_t n = libssh2_sftp_read(m_handle, m_buffer.data(), m_buffer.size());
            if (n == LIBSSH2_ERROR_EAGAIN) return;
            if (n < 0) return fail(fmt::format("reading {}", joined(m_remote, m_current)));
            if (n == 0) {
                m_step = Step::close_file;
                break;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = ::write(m_local_fd.get(), m_buffer.data() + off,
                                    static_cast<std::size_t>(n - off));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0 && !local_error("writing " + joined(m_local, m_current))) return;
                off += w;
            }
            m_bytes += static_cast<std::uint64_t>(n);
            break;
        }
        case Step::close_file: {
            int rc = libssh2_sftp_close(m_handle);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            m_handle = nullptr;
            m_local_fd.reset();
            m_step = Step::next_file;
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
