#include "clusterctl/ssh/ed25519_key.hpp"

#include <openssl/evp.h>

namespace clusterctl::ssh {

std::shared_ptr<const Ed25519Key> Ed25519Key::from_seed(std::string_view seed,
                                                        std::string public_blob) {
    if (seed.size() != 32) return nullptr;
    EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()),
        seed.size());
    if (!key) return nullptr;
    return std::shared_ptr<const Ed25519Key>(new Ed25519Key(key, std::move(public_blob)));
}

Ed25519Key::Ed25519Key(evp_pkey_st* key, std::string public_blob)
    : m_key(key), m_public_blob(std::move(public_blob)) {}

Ed25519Key::~Ed25519Key() {
    EVP_PKEY_free(m_key);
}

std::string Ed25519Key::sign(std::string_view data) const {
    std::string signature(64, '\0');
    std::size_t length = signature.size();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok =
        ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, m_key) == 1 &&
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
        length == 64;
    EVP_MD_CTX_free(ctx);
    return ok ? signature : std::string();
}

} // namespace clusterctl::ssh
