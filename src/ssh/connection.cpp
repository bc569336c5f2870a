#include "clusterctl/ssh/connection.hpp"

#include "clusterctl/config/ssh_config.hpp"
#include "clusterctl/ssh/library.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iterator>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace clusterctl::ssh {
namespace {

using config::endpoint;
using util::FailureStage;

void set_socket_options(int fd, const config::SshSettings& policy) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The kernel notices a peer that vanished; the loop's last-received time notices
    // one that hangs (ServerAliveInterval x ServerAliveCountMax).
    if (policy.server_alive_interval_s > 0) {
        int idle = policy.server_alive_interval_s;
        int count = std::max(1, policy.server_alive_count_max);
        ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    }
}

} // namespace

Connection::Connection(std::string name, std::string address, int port, std::string user,
                       std::vector<std::string> identity_files, bool identities_only,
                       const config::SshSettings& policy, SshShared& shared)
    : m_name(std::move(name)), m_address(std::move(address)), m_user(std::move(user)), m_port(port),
      m_identity_files(std::move(identity_files)), m_identities_only(identities_only),
      m_policy(policy), m_shared(shared) {
    m_key_host = m_address;
}

Connection::~Connection() {
    close();
}

void Connection::SessionFreer::operator()(LIBSSH2_SESSION* session) const {
    // Non-blocking, it may want a few more turns for its goodbye; the socket is shut down.
    for (int i = 0; i < 100 && libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN; ++i) {
    }
}

void Connection::AgentCloser::operator()(LIBSSH2_AGENT* agent) const {
    libssh2_agent_free(agent); // disconnects first when it is connected
}

ssize_t Connection::on_recv(libssh2_socket_t fd, void* buffer, size_t length, int flags,
                            void** abstract) {
    ssize_t n = ::recv(fd, buffer, length, flags);
    if (n < 0) return -errno;
    auto* self = static_cast<Connection*>(*abstract);
    if (n > 0 && self && fd == self->m_fd.get()) {
        self->m_last_received = Clock::now();
        self->m_heard = true;
    }
    return n;
}

void Connection::fail(FailureStage stage, std::string message, bool retryable) {
    if (m_phase == Phase::failed) return;
    m_failure = {stage, std::move(message), retryable};
    m_phase = Phase::failed;
}

std::string Connection::last_error(int code) const {
    char* message = nullptr;
    if (m_session) libssh2_session_last_error(m_session.get(), &message, nullptr, 0);
    return fmt::format("{} ({})", message && *message ? message : "libssh2 error", code);
}

util::FailureStage Connection::stage() const {
    switch (m_phase) {
    case Phase::handshaking:
        // Not a byte from the server yet (no SSH banner): the host has not answered, as a
        // user says it; a server that answered and then stalled fails the handshake.
        return m_heard ? FailureStage::handshake : FailureStage::connect;
    case Phase::authenticating:
    case Phase::ready:
        return FailureStage::auth;
    default:
        return FailureStage::connect;
    }
}

short Connection::wanted_events() const {
    if (m_phase == Phase::connecting) return POLLOUT;
    if (!m_session) return POLLIN;
    int dirs = libssh2_session_block_directions(m_session.get());
    short events = 0;
    if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND) events |= POLLIN;
    if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) events |= POLLOUT;
    return events ? events : POLLIN;
}

void Connection::start() {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string port = std::to_string(m_port);
    if (int rc = ::getaddrinfo(m_address.c_str(), port.c_str(), &hints, &found); rc != 0) {
        fail(FailureStage::resolve,
             fmt::format("cannot resolve '{}': {}", m_address, ::gai_strerror(rc)));
        return;
    }
    m_fd.reset(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!m_fd) {
        ::freeaddrinfo(found);
        fail(FailureStage::connect, fmt::format("socket: {}", std::strerror(errno)), true);
        return;
    }
    set_socket_options(m_fd.get(), m_policy);
    int rc = ::connect(m_fd.get(), found->ai_addr, found->ai_addrlen);
    int err = errno;
    ::freeaddrinfo(found);
    if (rc == 0) {
        begin_session();
    } else if (err == EINPROGRESS) {
        m_phase = Phase::connecting;
    } else {
        fail(FailureStage::connect,
             fmt::format("connect to {}: {}", endpoint(m_address, m_port), std::strerror(err)),
             true);
    }
}

void Connection::start_on_socket(int fd) {
    m_fd.reset(fd);
    begin_session();
}

namespace {

// OpenSSH's algorithm list syntax ("a,b", "+a", "-a*", "^a") against what libssh2 has,
// libssh2's order being its default. Empty when none of them is there.
std::string algorithm_list(LIBSSH2_SESSION* session, int type, const std::string& spec,
                           std::string& have_text) {
    const char** algorithms = nullptr;
    int n = libssh2_session_supported_algs(session, type, &algorithms);
    std::vector<std::string> have;
    for (int i = 0; i < n; ++i)
        have.emplace_back(algorithms[i]);
    if (algorithms) libssh2_free(session, algorithms);
    have_text = fmt::format("{}", fmt::join(have, ","));
    char how = spec.empty() ? 0 : spec.front();
    std::string list = (how == '+' || how == '-' || how == '^') ? spec.substr(1) : spec;
    std::vector<std::string> named;
    for (std::size_t pos = 0; pos <= list.size();) {
        std::size_t comma = std::min(list.find(',', pos), list.size());
        if (comma > pos) named.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
    }
    auto listed = [&](const std::string& a) {
        return std::any_of(named.begin(), named.end(),
                           [&](const std::string& p) { return config::wildcard_match(p, a); });
    };
    std::vector<std::string> out;
    if (how == '+') {
        out = have; // libssh2's defaults are everything it has
    } else if (how == '-') {
        std::copy_if(have.begin(), have.end(), std::back_inserter(out),
                     [&](const std::string& a) { return !listed(a); });
    } else {
        for (const auto& p : named)
            for (const auto& a : have)
                if (config::wildcard_match(p, a) &&
                    std::find(out.begin(), out.end(), a) == out.end())
                    out.push_back(a);
        if (how == '^')
            for (const auto& a : have)
                if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    return fmt::format("{}", fmt::join(out, ","));
}

} // namespace

// KexAlgorithms, HostKeyAlgorithms, Ciphers and MACs from ssh_config. False: it failed.
bool Connection::apply_algorithms() {
    struct Setting {
        const std::optional<std::string>& spec;
        std::vector<int> types;
        const char* key;
    };
    const Setting settings[] = {
        {m_policy.kex_algorithms, {LIBSSH2_METHOD_KEX}, "KexAlgorithms"},
        {m_policy.host_key_algorithms, {LIBSSH2_METHOD_HOSTKEY}, "HostKeyAlgorithms"},
        {m_policy.ciphers, {LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_CRYPT_SC}, "Ciphers"},
        {m_policy.macs, {LIBSSH2_METHOD_MAC_CS, LIBSSH2_METHOD_MAC_SC}, "MACs"},
    };
    for (const auto& setting : settings) {
        if (!setting.spec) continue;
        for (int type : setting.types) {
            std::string have;
            std::string list = algorithm_list(m_session.get(), type, *setting.spec, have);
            if (list.empty() ||
                libssh2_session_method_pref(m_session.get(), type, list.c_str()) != 0) {
                fail(FailureStage::handshake,
                     fmt::format("ssh_config's {} {}: libssh2 1.10 has none of these (it has "
                                 "{})",
                                 setting.key, *setting.spec, have));
                return false;
            }
        }
    }
    return true;
}

void Connection::begin_session() {
    m_session.reset(libssh2_session_init_ex(nullptr, nullptr, nullptr, this));
    if (!m_session) {
        fail(FailureStage::handshake, "libssh2_session_init failed");
        return;
    }
    libssh2_session_callback_set(m_session.get(), LIBSSH2_CALLBACK_RECV,
                                 reinterpret_cast<void*>(&Connection::on_recv));
    libssh2_session_set_blocking(m_session.get(), 0);
    std::string methods =
        m_shared.known_hosts.algorithm_preference(m_key_host, m_port, m_policy.known_hosts_files);
    libssh2_session_method_pref(m_session.get(), LIBSSH2_METHOD_HOSTKEY, methods.c_str());
    if (!apply_algorithms()) return;
    m_last_received = Clock::now();
    m_phase = Phase::handshaking;
}

void Connection::advance() {
    switch (m_phase) {
    case Phase::connecting:
        connect_step();
        break;
    case Phase::handshaking:
        handshake_step();
        break;
    case Phase::authenticating:
        auth_step();
        break;
    default:
        break;
    }
}

void Connection::connect_step() {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(m_fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == EINPROGRESS || err == EALREADY) return;
    if (err != 0) {
        fail(FailureStage::connect,
             fmt::format("connect to {}: {}", endpoint(m_address, m_port), std::strerror(err)),
             true);
        return;
    }
    begin_session();
    if (m_phase == Phase::handshaking) handshake_step();
}

void Connection::handshake_step() {
    int rc = libssh2_session_handshake(m_session.get(), m_fd.get());
    if (rc == LIBSSH2_ERROR_EAGAIN) return;
    if (rc == LIBSSH2_ERROR_KEX_FAILURE) {
        fail(FailureStage::handshake,
             fmt::format("key exchange with {} failed: {}; libssh2 1.10 needs the server to "
                         "offer an ed25519 or ECDSA host key and curve25519/ECDH key exchange",
                         endpoint(m_address, m_port), last_error(rc)));
        return;
    }
    if (rc != 0) {
        // A reset here is usually sshd's MaxStartups dropping the connection: retry it.
        fail(FailureStage::handshake,
             fmt::format("SSH handshake with {} failed: {}", endpoint(m_address, m_port),
                         last_error(rc)),
             true);
        return;
    }
    if (!verify_host_key()) return;
    m_phase = Phase::authenticating;
    auth_step();
}

bool Connection::verify_host_key() {
    size_t length = 0;
    int type = 0;
    const char* blob = libssh2_session_hostkey(m_session.get(), &length, &type);
    if (!blob) {
        fail(FailureStage::hostkey, "the server sent no host key");
        return false;
    }
    HostKey key;
    key.blob.assign(blob, length);
    key.type = type;
    if (const char* digest = libssh2_hostkey_hash(m_session.get(), LIBSSH2_HOSTKEY_HASH_SHA256))
        key.sha256_fingerprint = sha256_fingerprint(std::string_view(digest, 32));
    std::string shown = known_hosts_name(m_key_host, m_port);
    std::string described =
        fmt::format("{} key {}", to_string(hostkey_key_type(type)), key.sha256_fingerprint);
    const auto& files = m_policy.known_hosts_files;
    if (m_policy.known_hosts == config::KnownHostsPolicy::off) {
        if (!m_shared.warned_host_keys_off) {
            m_shared.warned_host_keys_off = true;
            m_shared.warnings.push_back(
                "host keys are not checked (known_hosts: off): anyone on the path can "
                "impersonate these hosts");
        }
        return true;
    }
    switch (m_shared.known_hosts.check(m_key_host, m_port, key, files)) {
    case HostKeyVerdict::match:
        return true;
    case HostKeyVerdict::revoked:
        fail(FailureStage::hostkey,
             fmt::format("{}: the host key ({}) is marked @revoked in known_hosts", shown,
                         described));
        return false;
    case HostKeyVerdict::mismatch:
        fail(FailureStage::hostkey,
             fmt::format("{}: HOST KEY CHANGED: the server sent {}, which is not the key "
                         "known_hosts holds; if the host was reinstalled, remove the old key "
                         "with: ssh-keygen -R '{}' -f {}",
                         shown, described, shown, files.empty() ? "~/.ssh/known_hosts" : files[0]));
        return false;
    case HostKeyVerdict::not_found:
        break;
    }
    if (m_policy.known_hosts == config::KnownHostsPolicy::accept_new && !files.empty()) {
        std::string error = m_shared.known_hosts.append(files[0], m_key_host, m_port, key);
        if (error.empty()) return true;
        fail(FailureStage::hostkey,
             fmt::format("{}: cannot record the new host key: {}", shown, error));
        return false;
    }
    fail(FailureStage::hostkey,
         fmt::format("{}: host unknown ({}): add it to known_hosts (ssh-keyscan -p {} {} >> "
                     "{}) or set 'known_hosts: accept-new' in the cluster: section",
                     shown, described, m_port, m_address,
                     files.empty() ? "~/.ssh/known_hosts" : files[0]));
    return false;
}

void Connection::auth_step() {
    if (m_auth_step == AuthStep::list) {
        const char* methods = libssh2_userauth_list(m_session.get(), m_user.c_str(),
                                                    static_cast<unsigned>(m_user.size()));
        if (!methods) {
            if (libssh2_userauth_authenticated(m_session.get())) {
                m_phase = Phase::ready;
                return;
            }
            int rc = libssh2_session_last_errno(m_session.get());
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            fail(FailureStage::auth, fmt::format("{}@{}: {}", m_user, m_name, last_error(rc)),
                 true);
            return;
        }
        if (!std::strstr(methods, "publickey")) {
            fail(FailureStage::auth,
                 fmt::format("{}@{} accepts only '{}'; clusterctl logs in with keys "
                             "(publickey)",
                             m_user, m_name, methods));
            return;
        }
        m_auth_step =
            (!agent_socket().empty() && !m_identities_only) ? AuthStep::agent : AuthStep::files;
    }
    if (m_auth_step == AuthStep::agent) {
        if (try_agent()) return; // logged in, waiting, or failed
        if (m_phase != Phase::authenticating) return;
        m_auth_step = AuthStep::files;
    }
    if (try_files()) return;
    if (m_phase == Phase::authenticating) auth_failed();
}

// True while the agent is still being tried (or succeeded); false to go on to files.
bool Connection::try_agent() {
    if (!m_agent) {
        m_agent.reset(libssh2_agent_init(m_session.get()));
        if (!m_agent) return false;
        std::string socket = agent_socket();
        libssh2_agent_set_identity_path(m_agent.get(), socket.c_str());
        if (libssh2_agent_connect(m_agent.get()) != 0 ||
            libssh2_agent_list_identities(m_agent.get()) != 0) {
            m_auth_notes.push_back(fmt::format("ssh-agent at {} did not answer", socket));
            m_agent.reset();
            // Do not ask it again for the other hosts.
            if (!m_policy.identity_agent) m_shared.agent_socket.clear();
            return false;
        }
    }
    for (;;) {
        if (!m_agent_trying) {
            int rc = libssh2_agent_get_identity(m_agent.get(), &m_agent_identity, m_agent_identity);
            if (rc != 0) break; // no more identities
            std::string_view blob(reinterpret_cast<const char*>(m_agent_identity->blob),
                                  m_agent_identity->blob_len);
            if (key_type_of_blob(blob) == KeyType::rsa && !rsa_sha2_supported()) {
                m_auth_notes.push_back(rsa_refused_explanation(fmt::format(
                    "agent key '{}'", m_agent_identity->comment ? m_agent_identity->comment : "")));
                continue;
            }
            m_agent_trying = true;
        }
        int rc = libssh2_agent_userauth(m_agent.get(), m_user.c_str(), m_agent_identity);
        if (rc == LIBSSH2_ERROR_EAGAIN) return true;
        m_agent_trying = false;
        if (rc == 0) {
            m_agent.reset();
            m_phase = Phase::ready;
            return true;
        }
        m_auth_notes.push_back(
            fmt::format("agent key '{}' was refused",
                        m_agent_identity->comment ? m_agent_identity->comment : ""));
    }
    m_agent.reset();
    return false;
}

// True while a file key is being tried (or succeeded); false when none is left.
bool Connection::try_files() {
    for (; m_file_index < m_identity_files.size(); ++m_file_index) {
        const std::string& path = m_identity_files[m_file_index];
        const Identity* id = m_shared.identities.load(path);
        if (!id) continue; // absent: the defaults (id_ed25519, id_ecdsa, id_rsa) often are
        if (!m_file_trying) {
            if (id->info.type == KeyType::rsa && !rsa_sha2_supported()) {
                m_auth_notes.push_back(rsa_refused_explanation(path));
                continue;
            }
            if (id->info.encrypted) {
                m_auth_notes.push_back(
                    fmt::format("{} is passphrase-protected and clusterctl never prompts: "
                                "load it into ssh-agent (ssh-add {})",
                                path, path));
                continue;
            }
            m_file_trying = true;
        }
        int rc;
        if (id->ed25519) {
            m_sign_key = const_cast<Ed25519Key*>(id->ed25519.get()); // libssh2 wants void*
            const std::string& blob = id->ed25519->public_blob();
            rc = libssh2_userauth_publickey(m_session.get(), m_user.c_str(),
                                            reinterpret_cast<const unsigned char*>(blob.data()),
                                            blob.size(), &Connection::sign_ed25519, &m_sign_key);
        } else {
            rc = libssh2_userauth_publickey_frommemory(
                m_session.get(), m_user.c_str(), m_user.size(),
                id->public_key.empty() ? nullptr : id->public_key.data(), id->public_key.size(),
                id->private_key.data(), id->private_key.size(), nullptr);
        }
        if (rc == LIBSSH2_ERROR_EAGAIN) return true;
        m_file_trying = false;
        if (rc == 0) {
            m_phase = Phase::ready;
            return true;
        }
        m_auth_notes.push_back(fmt::format("{} was refused", path));
    }
    return false;
}

// libssh2's sign callback: the raw signature, in memory libssh2 frees with free().
int Connection::sign_ed25519(LIBSSH2_SESSION*, unsigned char** sig, std::size_t* sig_len,
                             const unsigned char* data, std::size_t data_len, void** abstract) {
    const auto* key = static_cast<const Ed25519Key*>(*abstract);
    std::string signature = key->sign({reinterpret_cast<const char*>(data), data_len});
    if (signature.empty()) return -1;
    *sig = static_cast<unsigned char*>(std::malloc(signature.size()));
    if (!*sig) return -1;
    std::memcpy(*sig, signature.data(), signature.size());
    *sig_len = signature.size();
    return 0;
}

void Connection::auth_failed() {
    std::string why;
    for (const auto& note : m_auth_notes)
        why += (why.empty() ? "" : "; ") + note;
    if (why.empty())
        why = "no key to offer: no ssh-agent and none of the identity files exists (" +
              fmt::format("{}", fmt::join(m_identity_files, ", ")) + ")";
    fail(FailureStage::auth, fmt::format("{}@{}: no key was accepted: {}", m_user, m_name, why));
}

void Connection::close() {
    m_agent.reset();
    if (m_fd) ::shutdown(m_fd.get(), SHUT_RDWR);
    m_session.reset();
    m_fd.reset();
}

} // namespace clusterctl::ssh
