#pragma once
// "WHAT: DETAIL" for a failed SFTP call: libssh2's last error, or the SFTP status code when
// the server answered with one. Private to ssh/ (SftpUpload, SftpFetch).

#include <fmt/format.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <string>

namespace clusterctl::ssh {

inline std::string sftp_error(LIBSSH2_SESSION* session, LIBSSH2_SFTP* sftp,
                              const std::string& what) {
    char* message = nullptr;
    int rc = libssh2_session_last_error(session, &message, nullptr, 0);
    std::string detail = message && *message ? message : "error";
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && sftp)
        detail = fmt::format("SFTP status {}", libssh2_sftp_last_error(sftp));
    return fmt::format("{}: {}", what, detail);
}

} // namespace clusterctl::ssh
