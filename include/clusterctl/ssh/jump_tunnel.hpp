#pragma once
// ProxyJump: every host behind one jump host is reached through a direct-tcpip channel
// of a session to it (a few sessions share a large host list). Each such host gets one end
// of a socketpair as its "socket" (an ordinary fd session: poll works, and so does
// ssh-agent), and the tunnel pumps bytes between the other end and the channel.
//
// The jump host itself is reached by TCP, through a ProxyCommand, or through a stream of
// the jump host before it (a chain: ProxyJump a,b, or a jump host's own ProxyJump).
//
// The jump session is shared, so libssh2 1.10's per-session rules are kept here: one
// channel open at a time (opens are queued), and once a call gets EAGAIN with a packet
// half sent, only that channel may call in until its call completes (the "owner").

#include "clusterctl/ssh/connection.hpp"
#include "clusterctl/ssh/proxy_command.hpp"
#include "clusterctl/util/unique_fd.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <poll.h>
#include <string>
#include <vector>

namespace clusterctl::ssh {

class JumpTunnel {
public:
    // `through`: the tunnel of the hop before (null for the first); `proxy_command`: how
    // the first hop is reached when not by TCP.
    JumpTunnel(const config::JumpHost& jump, const config::SshSettings& policy, SshShared& shared,
               JumpTunnel* through, const std::optional<std::string>& proxy_command);
    ~JumpTunnel();
    JumpTunnel(const JumpTunnel&) = delete;
    JumpTunnel& operator=(const JumpTunnel&) = delete;

    using Ticket = std::size_t;
    enum class State { pending, open, failed, closed };

    // Asks for a stream to address:port as the jump host sees it.
    Ticket open(const std::string& address, int port);
    State state(Ticket t) const { return m_streams[t]->state; }
    const std::string& error(Ticket t) const { return m_streams[t]->error; }
    // The host's end of the stream, once open; the caller owns it from then on.
    int take_socket(Ticket t);
    // The host is done with it: EOF both ways, then the channel is closed and freed.
    void release(Ticket t);

    void advance();
    // (fd, events) pairs to poll: the jump connection and each pump's socket.
    void poll_set(std::vector<pollfd>& out) const;

    const Connection& connection() const { return m_connection; }
    const std::string& name() const { return m_name; }

private:
    struct Stream {
        std::string address;
        int port = 0;
        std::string open_message; // the direct-tcpip request, kept until it is sent
        State state = State::pending;
        std::string error;
        LIBSSH2_CHANNEL* channel = nullptr;
        util::UniqueFd pump_fd; // our end of the socketpair
        util::UniqueFd host_fd; // the host's end, until taken
        std::string to_channel, to_socket;
        std::size_t to_channel_sent = 0, to_socket_sent = 0;
        bool socket_eof = false, channel_eof = false, eof_sent = false, released = false;
    };
    bool carried(); // false until the connection has its socket (or has failed)
    bool start_open(Stream& s);
    bool pump(Stream& s); // false: it left a half-sent packet (it is now the owner)
    void close_stream(Stream& s, State state, std::string error = {});
    void fail_all(const std::string& error);

    std::string m_name;
    Connection m_connection;
    JumpTunnel* m_through = nullptr;
    Ticket m_through_ticket = 0;
    bool m_started = false;
    std::unique_ptr<ProxyCommand> m_proxy;
    std::vector<std::unique_ptr<Stream>> m_streams;
    std::deque<Ticket> m_opening;
    Stream* m_owner = nullptr;
};

} // namespace clusterctl::ssh
