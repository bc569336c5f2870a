#pragma once
// Private key files, read once per run and shared by every session: what type each key
// is (RSA cannot log in with Debian 12's libssh2 against OpenSSH >= 8.8) and whether it
// is passphrase-protected (clusterctl never prompts; the agent must hold such keys).

#include "clusterctl/ssh/ed25519_key.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::ssh {

enum class KeyType { ed25519, ecdsa, rsa, dsa, unknown };

std::string_view to_string(KeyType type);

// "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ... -> KeyType
KeyType key_type_from_name(std::string_view name);

struct KeyInfo {
    KeyType type = KeyType::unknown;
    bool encrypted = false;
};

// Reads an OpenSSH ("openssh-key-v1") or PEM private key's text. nullopt: not a key.
std::optional<KeyInfo> inspect_private_key(std::string_view text);

// The key type named at the start of an SSH public key blob (an agent identity).
KeyType key_type_of_blob(std::string_view blob);

struct Identity {
    std::string path;
    KeyInfo info;
    std::string private_key; // the file's text, handed to libssh2 from memory
    std::string public_key;  // PATH.pub's text when it exists
    // An unencrypted OpenSSH ed25519 key, made once: sessions sign with it directly.
    std::shared_ptr<const Ed25519Key> ed25519;
};

// The seed and public key blob of an unencrypted OpenSSH ("openssh-key-v1") ed25519
// private key; nullopt for anything else.
struct Ed25519Parts {
    std::string seed;        // 32 bytes
    std::string public_blob; // string "ssh-ed25519", string key (32 bytes)
};
std::optional<Ed25519Parts> openssh_ed25519_parts(std::string_view text);

// Loads each identity file once, however many hosts use it.
class IdentityCache {
public:
    // nullptr when the file does not exist or is not a private key.
    const Identity* load(const std::string& path);

private:
    std::map<std::string, std::unique_ptr<Identity>, std::less<>> m_loaded;
};

// What to tell the user about an RSA identity on this libssh2.
std::string rsa_refused_explanation(std::string_view what);

} // namespace clusterctl::ssh
