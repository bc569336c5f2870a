#include "clusterctl/ssh/identity.hpp"

#include "clusterctl/util/base64.hpp"
#include "clusterctl/util/text_file.hpp"

#include <cstdint>
#include <fmt/format.h>

namespace clusterctl::ssh {
namespace {

// Reads the SSH wire format: uint32 lengths, big-endian.
class WireReader {
public:
    explicit WireReader(std::string_view data) : m_data(data) {}

    std::optional<std::uint32_t> u32() {
        if (m_data.size() < 4) return std::nullopt;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v = v << 8 | static_cast<unsigned char>(m_data[static_cast<std::size_t>(i)]);
        m_data.remove_prefix(4);
        return v;
    }
    std::optional<std::string_view> string() {
        auto n = u32();
        if (!n || *n > m_data.size()) return std::nullopt;
        std::string_view s = m_data.substr(0, *n);
        m_data.remove_prefix(*n);
        return s;
    }
    bool skip(std::string_view magic) {
        if (m_data.substr(0, magic.size()) != magic) return false;
        m_data.remove_prefix(magic.size());
        return true;
    }

private:
    std::string_view m_data;
};

std::optional<std::string_view> pem_body(std::string_view text, std::string_view label) {
    std::string begin = fmt::format("-----BEGIN {}-----", label);
    std::string end = fmt::format("-----END {}-----", label);
    auto b = text.find(begin);
    if (b == std::string_view::npos) return std::nullopt;
    b += begin.size();
    auto e = text.find(end, b);
    if (e == std::string_view::npos) return std::nullopt;
    return text.substr(b, e - b);
}

struct OpensshKey {
    std::string_view cipher, public_blob, private_section;
};

std::optional<OpensshKey> read_openssh_key(WireReader& r) {
    if (!r.skip(std::string_view("openssh-key-v1\0", 15))) return std::nullopt;
    auto cipher = r.string();
    auto kdf = r.string();
    auto kdf_options = r.string();
    auto count = r.u32();
    auto public_blob = r.string();
    if (!cipher || !kdf || !kdf_options || !count || !public_blob) return std::nullopt;
    auto private_section = r.string();
    return OpensshKey{*cipher, *public_blob, private_section.value_or(std::string_view())};
}

std::optional<KeyInfo> inspect_openssh_key(std::string_view body) {
    auto raw = util::base64_decode(body);
    if (!raw) return std::nullopt;
    WireReader r(*raw);
    auto key = read_openssh_key(r);
    if (!key) return std::nullopt;
    return KeyInfo{key_type_of_blob(key->public_blob), key->cipher != "none"};
}

} // namespace

std::string_view to_string(KeyType type) {
    switch (type) {
    case KeyType::ed25519:
        return "ED25519";
    case KeyType::ecdsa:
        return "ECDSA";
    case KeyType::rsa:
        return "RSA";
    case KeyType::dsa:
        return "DSA";
    case KeyType::unknown:
        break;
    }
    return "unknown";
}

KeyType key_type_from_name(std::string_view name) {
    if (name == "ssh-ed25519") return KeyType::ed25519;
    if (name.substr(0, 11) == "ecdsa-sha2-") return KeyType::ecdsa;
    if (name == "ssh-rsa" || name == "rsa-sha2-256" || name == "rsa-sha2-512") return KeyType::rsa;
    if (name == "ssh-dss") return KeyType::dsa;
    return KeyType::unknown;
}

KeyType key_type_of_blob(std::string_view blob) {
    WireReader r(blob);
    auto name = r.string();
    return name ? key_type_from_name(*name) : KeyType::unknown;
}

std::optional<KeyInfo> inspect_private_key(std::string_view text) {
    if (auto body = pem_body(text, "OPENSSH PRIVATE KEY")) return inspect_openssh_key(*body);
    struct Pem {
        std::string_view label;
        KeyType type;
    };
    static constexpr Pem k_pem[] = {{"RSA PRIVATE KEY", KeyType::rsa},
                                    {"EC PRIVATE KEY", KeyType::ecdsa},
                                    {"DSA PRIVATE KEY", KeyType::dsa},
                                    {"PRIVATE KEY", KeyType::unknown}};
    for (const auto& pem : k_pem)
        if (auto body = pem_body(text, pem.label))
            return KeyInfo{pem.type, body->find("ENCRYPTED") != std::string_view::npos};
    if (pem_body(text, "ENCRYPTED PRIVATE KEY")) return KeyInfo{KeyType::unknown, true};
    return std::nullopt;
}

std::optional<Ed25519Parts> openssh_ed25519_parts(std::string_view text) {
    auto body = pem_body(text, "OPENSSH PRIVATE KEY");
    if (!body) return std::nullopt;
    auto raw = util::base64_decode(*body);
    if (!raw) return std::nullopt;
    WireReader r(*raw);
    auto key = read_openssh_key(r);
    if (!key || key->cipher != "none" || key_type_of_blob(key->public_blob) != KeyType::ed25519)
        return std::nullopt;
    // Private section: two equal check words, then type, public key, seed + public key.
    WireReader p(key->private_section);
    auto check1 = p.u32();
    auto check2 = p.u32();
    auto type = p.string();
    auto public_key = p.string();
    auto secret = p.string();
    if (!check1 || !check2 || *check1 != *check2 || type != "ssh-ed25519" || !public_key ||
        public_key->size() != 32 || !secret || secret->size() != 64 ||
        secret->substr(32) != *public_key)
        return std::nullopt;
    return Ed25519Parts{std::string(secret->substr(0, 32)), std::string(key->public_blob)};
}

const Identity* IdentityCache::load(const std::string& path) {
    if (auto it = m_loaded.find(path); it != m_loaded.end()) return it->second.get();
    std::unique_ptr<Identity> identity;
    if (auto text = util::read_file_if_present(path)) {
        if (auto info = inspect_private_key(*text)) {
            identity = std::make_unique<Identity>();
            identity->path = path;
            identity->info = *info;
            identity->private_key = std::move(*text);
            if (auto pub = util::read_file_if_present(path + ".pub")) identity->public_key = *pub;
            if (auto parts = openssh_ed25519_parts(identity->private_key))
                identity->ed25519 = Ed25519Key::from_seed(parts->seed, parts->public_blob);
        }
    }
    return m_loaded.emplace(path, std::move(identity)).first->second.get();
}

std::string rsa_refused_explanation(std::string_view what) {
    return fmt::format("{} is an RSA key: libssh2 1.10 (Debian 12) signs RSA keys with SHA-1 "
                       "(ssh-rsa), which OpenSSH 8.8 and later refuse; use an ed25519 key "
                       "(ssh-keygen -t ed25519) or libssh2 >= 1.11",
                       what);
}

} // namespace clusterctl::ssh
