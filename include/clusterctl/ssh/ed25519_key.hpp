#pragma once
// An ed25519 identity file's key, made once per run and used by every session through
// libssh2's sign callback. libssh2_userauth_publickey_frommemory would parse the key file
// again for each host, through OpenSSL 3's decoders: at 256 hosts that was the largest
// part of clusterctl's CPU per login.

#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st; // OpenSSL's EVP_PKEY

namespace clusterctl::ssh {

class Ed25519Key {
public:
    // From the key's 32-byte seed and its public key blob ("ssh-ed25519", 32 bytes);
    // nullptr when OpenSSL does not take it.
    static std::shared_ptr<const Ed25519Key> from_seed(std::string_view seed,
                                                       std::string public_blob);
    ~Ed25519Key();
    Ed25519Key(const Ed25519Key&) = delete;
    Ed25519Key& operator=(const Ed25519Key&) = delete;

    const std::string& public_blob() const { return m_public_blob; }

    // The 64-byte signature of `data`; empty if signing failed.
    std::string sign(std::string_view data) const;

private:
    Ed25519Key(evp_pkey_st* key, std::string public_blob);
    evp_pkey_st* m_key;
    std::string m_public_blob;
};

} // namespace clusterctl::ssh
