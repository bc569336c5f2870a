#pragma once
// known_hosts as OpenSSH keeps it, checked through libssh2's knownhost API: hashed
// entries, "[host]:port" for other ports, @revoked honoured (libssh2 1.10 ignores it),
// and the host key algorithm chosen from what the file already holds for a host, so a
// host known by its ed25519 key is not asked for its ECDSA one (libssh2 issue #42).

#include "clusterctl/ssh/identity.hpp"

#include <libssh2.h>
#include <map>
#include <string>
#include <vector>

namespace clusterctl::ssh {

struct HostKey {
    std::string blob;               // the raw public key, as the server sent it
    int type = 0;                   // LIBSSH2_HOSTKEY_TYPE_*
    std::string sha256_fingerprint; // "SHA256:..." as OpenSSH prints it
};

std::string hostkey_algorithm(int hostkey_type); // "ssh-ed25519", ...
KeyType hostkey_key_type(int hostkey_type);

// "[127.0.1.7]:2222", or the bare host for port 22: the name known_hosts uses.
std::string known_hosts_name(const std::string& host, int port);

// "SHA256:" and the unpadded base64 of a SHA-256 digest.
std::string sha256_fingerprint(std::string_view digest);

enum class HostKeyVerdict { match, mismatch, not_found, revoked };

class KnownHosts {
public:
    KnownHosts();
    ~KnownHosts();
    KnownHosts(const KnownHosts&) = delete;
    KnownHosts& operator=(const KnownHosts&) = delete;

    // The METHOD_HOSTKEY preference for a host: the types `files` hold for it first.
    std::string algorithm_preference(const std::string& host, int port,
                                     const std::vector<std::string>& files);

    HostKeyVerdict check(const std::string& host, int port, const HostKey& key,
                         const std::vector<std::string>& files);

    // Appends "NAME TYPE KEY" to `file` (accept-new). Empty on success, else why not.
    std::string append(const std::string& file, const std::string& host, int port,
                       const HostKey& key);

private:
    struct File {
        LIBSSH2_KNOWNHOSTS* hosts = nullptr;
        std::vector<std::string> revoked; // base64 keys under @revoked
    };
    File& file(const std::string& path);

    LIBSSH2_SESSION* m_owner = nullptr; // libssh2 ties a knownhost list to a session
    std::map<std::string, File> m_files;
};

} // namespace clusterctl::ssh
