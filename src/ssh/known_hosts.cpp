#include "clusterctl/ssh/known_hosts.hpp"

#include "clusterctl/util/base64.hpp"
#include "clusterctl/util/strings.hpp"
#include "clusterctl/util/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace clusterctl::ssh {
namespace {

struct TypeInfo {
    int hostkey_type;
    int knownhost_bit;
    const char* name;
};

constexpr TypeInfo k_types[] = {
    {LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521"},
    {LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa"},
};

const TypeInfo* type_info(int hostkey_type) {
    for (const auto& t : k_types)
        if (t.hostkey_type == hostkey_type) return &t;
    return nullptr;
}

int check_one(LIBSSH2_KNOWNHOSTS* hosts, const std::string& host, int port, std::string_view blob,
              int knownhost_bit) {
    return libssh2_knownhost_checkp(
        hosts, host.c_str(), port, blob.data(), blob.size(),
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_bit, nullptr);
}

} // namespace

std::string hostkey_algorithm(int hostkey_type) {
    const TypeInfo* t = type_info(hostkey_type);
    return t ? t->name : "unknown";
}

KeyType hostkey_key_type(int hostkey_type) {
    return key_type_from_name(hostkey_algorithm(hostkey_type));
}

std::string known_hosts_name(const std::string& host, int port) {
    return port == 22 ? host : fmt::format("[{}]:{}", host, port);
}

std::string sha256_fingerprint(std::string_view digest) {
    return "SHA256:" + util::base64_encode(digest, false);
}

KnownHosts::KnownHosts() : m_owner(libssh2_session_init()) {}

KnownHosts::~KnownHosts() {
    for (auto& [path, f] : m_files)
        libssh2_knownhost_free(f.hosts);
    if (m_owner) libssh2_session_free(m_owner);
}

KnownHosts::File& KnownHosts::file(const std::string& path) {
    if (auto it = m_files.find(path); it != m_files.end()) return it->second;
    File f;
    f.hosts = libssh2_knownhost_init(m_owner);
    if (auto text = util::read_file_if_present(path)) {
        std::string_view rest = *text;
        while (!rest.empty()) {
            auto nl = rest.find('\n');
            std::string line(rest.substr(0, nl));
            rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
            std::string trimmed(util::trim(line));
            if (trimmed.empty() || trimmed.front() == '#') continue;
            if (trimmed.front() == '@') {
                // "@revoked HOSTS TYPE KEY": remember the key. "@cert-authority" lines
                // vouch for certificates, which clusterctl does not use: skip them.
                auto words = util::split_whitespace(trimmed);
                if (words.size() >= 4 && words[0] == "@revoked") f.revoked.emplace_back(words[3]);
                continue;
            }
            // A line libssh2 cannot read (an unknown key type) is skipped, not fatal.
            libssh2_knownhost_readline(f.hosts, trimmed.c_str(), trimmed.size(),
                                       LIBSSH2_KNOWNHOST_FILE_OPENSSH);
        }
    }
    return m_files.emplace(path, f).first->second;
}

std::string KnownHosts::algorithm_preference(const std::string& host, int port,
                                             const std::vector<std::string>& files) {
    // A key that matches nothing: an entry of the asked type for this host then answers
    // MISMATCH, which says the type is known; NOTFOUND says it is not.
    static const std::string k_probe(32, '\x01');
    std::string known, rest;
    for (const auto& t : k_types) {
        bool found = false;
        for (const auto& path : files)
            if (check_one(file(path).hosts, host, port, k_probe, t.knownhost_bit) ==
                LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
                found = true;
        std::string& into = found ? known : rest;
        into += (into.empty() ? "" : ",") + std::string(t.name);
    }
    return known.empty() ? rest : known + "," + rest;
}

HostKeyVerdict KnownHosts::check(const std::string& host, int port, const HostKey& key,
                                 const std::vector<std::string>& files) {
    const TypeInfo* t = type_info(key.type);
    if (!t) return HostKeyVerdict::not_found;
    std::string encoded = util::base64_encode(key.blob);
    bool mismatch = false;
    for (const auto& path : files) {
        File& f = file(path);
        for (const auto& revoked : f.revoked)
            if (revoked == encoded) return HostKeyVerdict::revoked;
        int r = check_one(f.hosts, host, port, key.blob, t->knownhost_bit);
        if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH) return HostKeyVerdict::match;
        if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) mismatch = true;
    }
    return mismatch ? HostKeyVerdict::mismatch : HostKeyVerdict::not_found;
}

std::string KnownHosts::append(const std::string& path, const std::string& host, int port,
                               const HostKey& key) {
    const TypeInfo* t = type_info(key.type);
    if (!t) return "unknown host key type";
    std::string name = known_hosts_name(host, port);
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    std::ofstream out(path, std::ios::app | std::ios::binary);
    if (!out) return fmt::format("cannot write '{}': {}", path, std::strerror(errno));
    out << name << ' ' << t->name << ' ' << util::base64_encode(key.blob) << '\n';
    out.flush();
    if (!out) return fmt::format("cannot write '{}': {}", path, std::strerror(errno));
    libssh2_knownhost_addc(
        file(path).hosts, name.c_str(), nullptr, key.blob.data(), key.blob.size(), nullptr, 0,
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | t->knownhost_bit, nullptr);
    return {};
}

} // namespace clusterctl::ssh
