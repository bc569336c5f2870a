#pragma once
// One SSH connection as a passive, non-blocking state machine. advance() does all it
// can without blocking and returns; the loop polls fd() for wanted_events() and calls it
// again. It never sleeps and keeps no timer: deadlines belong to the loop.
//
//   idle -> connecting (TCP) -> handshaking (KEX, host key) -> authenticating -> ready
//                                  any of them -> failed (with the stage it failed in)

#include "clusterctl/config/host_spec.hpp"
#include "clusterctl/ssh/identity.hpp"
#include "clusterctl/ssh/known_hosts.hpp"
#include "clusterctl/util/failure.hpp"
#include "clusterctl/util/unique_fd.hpp"

#include <chrono>
#include <libssh2.h>
#include <memory>
#include <string>
#include <vector>

namespace clusterctl::ssh {

using Clock = std::chrono::steady_clock;

// A connection fails in a stage: "resolve", "connect", "handshake", "hostkey", "auth".
using util::Failure;

// What every connection of a run shares: known_hosts, keys read once, the agent, and
// warnings to show once.
struct SshShared {
    KnownHosts known_hosts;
    IdentityCache identities;
    std::string agent_socket; // SSH_AUTH_SOCK; empty: no agent
    std::vector<std::string> warnings;
    bool warned_host_keys_off = false;
};

class Connection {
public:
    enum class Phase { idle, connecting, handshaking, authenticating, ready, failed };

    // `target` names what is reached (the host, or its jump host).
    Connection(std::string name, std::string address, int port, std::string user,
               std::vector<std::string> identity_files, bool identities_only,
               const config::SshSettings& policy, SshShared& shared);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // HostKeyAlias: the name known_hosts holds this host's key under (else its address).
    void set_host_key_alias(std::string alias) { m_key_host = std::move(alias); }
    void start();                 // TCP connect to address:port
    void start_on_socket(int fd); // a connected stream (a tunnel's socketpair end); owned
    void advance();

    Phase phase() const { return m_phase; }
    // The failure stage of where it is now: connect, handshake or auth.
    util::FailureStage stage() const;
    bool ready() const { return m_phase == Phase::ready; }
    int fd() const { return m_fd.get(); }
    short wanted_events() const; // POLLIN/POLLOUT for the next advance()
    LIBSSH2_SESSION* session() const { return m_session.get(); }
    const Failure& failure() const { return m_failure; }
    void fail(util::FailureStage stage, std::string message, bool retryable = false);
    Clock::time_point last_received() const { return m_last_received; }
    const std::string& name() const { return m_name; }

    // Gives the connection up at once: shutdown() first, so a hung peer cannot block the
    // session's teardown (libssh2 1.10 otherwise waits on it forever), then free.
    void close();

    // libssh2's last error on this session: "MESSAGE (CODE)".
    std::string last_error(int code) const;

private:
    static ssize_t on_recv(libssh2_socket_t fd, void* buffer, size_t length, int flags,
                           void** abstract);
    static int sign_ed25519(LIBSSH2_SESSION* session, unsigned char** sig, std::size_t* sig_len,
                            const unsigned char* data, std::size_t data_len, void** abstract);
    void begin_session();
    bool apply_algorithms();
    void connect_step();
    void handshake_step();
    bool verify_host_key();
    void auth_step();
    // IdentityAgent's socket for this host, else SSH_AUTH_SOCK's; empty: no agent.
    const std::string& agent_socket() const {
        return m_policy.identity_agent ? *m_policy.identity_agent : m_shared.agent_socket;
    }
    bool try_agent();
    bool try_files();
    void auth_failed();

    std::string m_name, m_address, m_user;
    std::string m_key_host; // known_hosts' name for it: HostKeyAlias, else the address
    int m_port;
    std::vector<std::string> m_identity_files;
    bool m_identities_only;
    const config::SshSettings& m_policy;
    SshShared& m_shared;

    Phase m_phase = Phase::idle;
    bool m_heard = false; // a byte has come from the server
    // Freed in reverse: the agent, then the session (shut down first, so a hung host cannot
    // block this), then the socket.
    struct SessionFreer {
        void operator()(LIBSSH2_SESSION* session) const;
    };
    util::UniqueFd m_fd;
    std::unique_ptr<LIBSSH2_SESSION, SessionFreer> m_session;
    Failure m_failure;
    Clock::time_point m_last_received = Clock::now();

    // Authentication walks: methods list, agent identities, identity files.
    enum class AuthStep { list, agent, files } m_auth_step = AuthStep::list;
    // The agent connection, closed and freed as one: whichever way the agent is given up.
    struct AgentCloser {
        void operator()(LIBSSH2_AGENT* agent) const;
    };
    std::unique_ptr<LIBSSH2_AGENT, AgentCloser> m_agent;
    libssh2_agent_publickey* m_agent_identity = nullptr;
    bool m_agent_trying = false;
    std::size_t m_file_index = 0;
    bool m_file_trying = false;
    void* m_sign_key = nullptr;            // the Ed25519Key being tried, for the sign callback
    std::vector<std::string> m_auth_notes; // why each key did not log in
};

} // namespace clusterctl::ssh
