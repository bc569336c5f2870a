// Host key fingerprints and names as OpenSSH writes them; private key files inspected and
// ed25519 keys signed as RFC 8032 says.

#include "clusterctl/ssh/identity.hpp"
#include "clusterctl/ssh/known_hosts.hpp"
#include "clusterctl/util/base64.hpp"

#include <gtest/gtest.h>

namespace clusterctl {
namespace {

TEST(HostKeys, FingerprintAndNamesAsOpenSshWritesThem) {
    std::string digest(32, '\0'); // SHA-256 of nothing would do as well: the format is the point
    EXPECT_EQ(ssh::sha256_fingerprint(digest),
              "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    EXPECT_EQ(ssh::known_hosts_name("127.0.1.7", 2222), "[127.0.1.7]:2222");
    EXPECT_EQ(ssh::known_hosts_name("node-001", 22), "node-001");
}

std::string wire_string(std::string_view s) {
    std::string out(4, '\0');
    out[0] = static_cast<char>(s.size() >> 24);
    out[1] = static_cast<char>(s.size() >> 16);
    out[2] = static_cast<char>(s.size() >> 8);
    out[3] = static_cast<char>(s.size());
    return out + std::string(s);
}

// An "openssh-key-v1" file as ssh-keygen writes it, up to the public key (all that is read).
std::string openssh_key(std::string_view type, std::string_view cipher) {
    std::string body = std::string("openssh-key-v1", 15) + wire_string(cipher) +
                       wire_string(cipher == "none" ? "none" : "bcrypt") + wire_string("") +
                       std::string("\0\0\0\1", 4) + wire_string(wire_string(type) + "keybytes");
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + util::base64_encode(body) +
           "\n-----END OPENSSH PRIVATE KEY-----\n";
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

// RFC 8032, section 7.1, test 1: the seed, its public key, and the signature of "".
const std::string k_seed =
    from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const std::string k_public =
    from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const std::string k_signature =
    from_hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
             "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");

// A whole unencrypted "openssh-key-v1" ed25519 file, private section included.
std::string openssh_ed25519_file(std::string_view check2) {
    std::string blob = wire_string("ssh-ed25519") + wire_string(k_public);
    std::string secret = std::string("\x12\x34\x56\x78", 4) + std::string(check2) +
                         wire_string("ssh-ed25519") + wire_string(k_public) +
                         wire_string(k_seed + k_public) + wire_string("user@host") + "\x01\x02\x03";
    std::string body = std::string("openssh-key-v1", 15) + wire_string("none") +
                       wire_string("none") + wire_string("") + std::string("\0\0\0\1", 4) +
                       wire_string(blob) + wire_string(secret);
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + util::base64_encode(body) +
           "\n-----END OPENSSH PRIVATE KEY-----\n";
}

TEST(Identity, Ed25519KeyIsReadOnceAndSignsAsRfc8032Says) {
    auto parts = ssh::openssh_ed25519_parts(openssh_ed25519_file("\x12\x34\x56\x78"));
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->seed, k_seed);
    EXPECT_EQ(parts->public_blob, wire_string("ssh-ed25519") + wire_string(k_public));
    auto key = ssh::Ed25519Key::from_seed(parts->seed, parts->public_blob);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->sign(""), k_signature);
    // Check words that differ mean a wrong passphrase or a damaged file: not a key.
    EXPECT_FALSE(ssh::openssh_ed25519_parts(openssh_ed25519_file("\x12\x34\x56\x79")));
    // Encrypted keys and other types go to libssh2 as they are.
    EXPECT_FALSE(ssh::openssh_ed25519_parts(openssh_key("ssh-ed25519", "aes256-ctr")));
    EXPECT_FALSE(ssh::openssh_ed25519_parts(openssh_key("ecdsa-sha2-nistp256", "none")));
    EXPECT_FALSE(ssh::Ed25519Key::from_seed("short", ""));
}

TEST(Identity, InspectsOpenSshAndPemKeys) {
    auto ed = ssh::inspect_private_key(openssh_key("ssh-ed25519", "none"));
    ASSERT_TRUE(ed);
    EXPECT_EQ(ed->type, ssh::KeyType::ed25519);
    EXPECT_FALSE(ed->encrypted);
    auto locked = ssh::inspect_private_key(openssh_key("ssh-ed25519", "aes256-ctr"));
    EXPECT_TRUE(locked->encrypted);
    EXPECT_EQ(ssh::inspect_private_key(openssh_key("ssh-rsa", "none"))->type, ssh::KeyType::rsa);
    EXPECT_EQ(ssh::inspect_private_key(openssh_key("ecdsa-sha2-nistp256", "none"))->type,
              ssh::KeyType::ecdsa);
    auto pem = ssh::inspect_private_key("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                        "MIIB\n-----END RSA PRIVATE KEY-----\n");
    ASSERT_TRUE(pem);
    EXPECT_EQ(pem->type, ssh::KeyType::rsa);
    EXPECT_TRUE(pem->encrypted);
    EXPECT_FALSE(ssh::inspect_private_key("ssh-ed25519 AAAA... a public key"));
    EXPECT_FALSE(ssh::inspect_private_key(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n"));
}

} // namespace
} // namespace clusterctl
