#pragma once
// A failed SFTP call in words: "WHAT: WHY", WHY from the status the server answered with
// (no such file, permission denied, no space left, ...) or libssh2's own error; a path
// whose folder is missing says which folder and how to make it. Private to ssh/
// (SftpUpload, SftpFetch).

#include <fmt/format.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <string>
#include <string_view>

namespace clusterctl::ssh {

// The SFTP status codes of draft-ietf-secsh-filexfer, as a user reads them.
inline std::string_view sftp_status_words(unsigned long status) {
    switch (status) {
    case LIBSSH2_FX_EOF:
        return "unexpected end of file";
    case LIBSSH2_FX_NO_SUCH_FILE:
    case LIBSSH2_FX_NO_SUCH_PATH:
        return "no such file or directory";
    case LIBSSH2_FX_PERMISSION_DENIED:
        return "permission denied";
    case LIBSSH2_FX_FAILURE:
        return "the server refused (SFTP gives no reason: a directory where a file should "
               "go, or a file where a directory should)";
    case LIBSSH2_FX_NO_CONNECTION:
    case LIBSSH2_FX_CONNECTION_LOST:
        return "the connection was lost";
    case LIBSSH2_FX_OP_UNSUPPORTED:
        return "the server does not support this";
    case LIBSSH2_FX_FILE_ALREADY_EXISTS:
        return "it exists already";
    case LIBSSH2_FX_WRITE_PROTECT:
        return "read-only filesystem";
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
        return "no space left on the device";
    case LIBSSH2_FX_QUOTA_EXCEEDED:
        return "disk quota exceeded";
    case LIBSSH2_FX_NOT_A_DIRECTORY:
        return "not a directory";
    case LIBSSH2_FX_INVALID_FILENAME:
        return "invalid file name";
    case LIBSSH2_FX_LINK_LOOP:
        return "too many levels of symbolic links";
    default:
        return {};
    }
}

// The server's SFTP status of the last failed call; 0 when the failure was not one.
inline unsigned long sftp_status(LIBSSH2_SESSION* session, LIBSSH2_SFTP* sftp) {
    int rc = libssh2_session_last_errno(session);
    return rc == LIBSSH2_ERROR_SFTP_PROTOCOL && sftp ? libssh2_sftp_last_error(sftp) : 0;
}

inline std::string sftp_error(LIBSSH2_SESSION* session, LIBSSH2_SFTP* sftp,
                              const std::string& what) {
    char* message = nullptr;
    libssh2_session_last_error(session, &message, nullptr, 0);
    std::string detail = message && *message ? message : "error";
    if (unsigned long status = sftp_status(session, sftp)) {
        std::string_view words = sftp_status_words(status);
        detail = words.empty() ? fmt::format("SFTP status {}", status) : std::string(words);
    }
    return fmt::format("{}: {}", what, detail);
}

// `path` could not be created because its folder does not exist on the host.
inline std::string missing_folder_error(const std::string& path) {
    std::size_t slash = path.find_last_of('/');
    std::string folder = slash == std::string::npos ? "." : path.substr(0, slash ? slash : 1);
    return fmt::format("cannot create {}: the folder {} does not exist on the host (create it "
                       "first: clusterctl exec -- mkdir -p {}; or end the destination with '/' "
                       "to copy into an existing folder)",
                       path, folder, folder);
}

} // namespace clusterctl::ssh
