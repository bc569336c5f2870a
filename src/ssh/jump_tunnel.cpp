#include "clusterctl/ssh/jump_tunnel.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace clusterctl::ssh {
namespace {

constexpr std::size_t k_chunk = 32 * 1024;
constexpr unsigned int k_window = 256 * 1024;

bool sending_half_done(LIBSSH2_SESSION* session) {
    return libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND;
}

} // namespace

JumpTunnel::JumpTunnel(const config::JumpHost& jump, const config::SshSettings& policy,
                       SshShared& shared, JumpTunnel* through,
                       const std::optional<std::string>& proxy_command)
    : m_name(jump.name),
      m_connection(jump.name, jump.address, jump.port, jump.user,
                   jump.identity_files.empty() ? policy.identity_files : jump.identity_files,
                   policy.identities_only, policy, shared),
      m_through(through) {
    if (jump.host_key_alias) m_connection.set_host_key_alias(*jump.host_key_alias);
    if (m_through) {
        m_through_ticket = m_through->open(jump.address, jump.port);
        return; // started once that stream is open
    }
    m_started = true;
    if (!proxy_command) {
        m_connection.start();
        return;
    }
    m_proxy = std::make_unique<ProxyCommand>(*proxy_command);
    if (!m_proxy->error().empty())
        m_connection.fail(util::FailureStage::connect, m_proxy->error());
    else
        m_connection.start_on_socket(m_proxy->take_socket());
}

JumpTunnel::~JumpTunnel() {
    m_streams.clear();    // their sockets first
    m_connection.close(); // frees the channels with the session
    if (m_through) m_through->release(m_through_ticket);
}

bool JumpTunnel::carried() {
    if (m_started) return true;
    switch (m_through->state(m_through_ticket)) {
    case State::pending:
        return false;
    case State::open:
        m_started = true;
        m_connection.start_on_socket(m_through->take_socket(m_through_ticket));
        return true;
    default:
        m_started = true;
        m_connection.fail(util::FailureStage::connect, m_through->error(m_through_ticket), true);
        return true;
    }
}

JumpTunnel::Ticket JumpTunnel::open(const std::string& address, int port) {
    auto s = std::make_unique<Stream>();
    s->address = address;
    s->port = port;
    m_streams.push_back(std::move(s));
    Ticket t = m_streams.size() - 1;
    if (m_connection.phase() == Connection::Phase::failed)
        close_stream(*m_streams[t], State::failed,
                     fmt::format("jump host {}: {}", m_name, m_connection.failure().message));
    else
        m_opening.push_back(t);
    return t;
}

int JumpTunnel::take_socket(Ticket t) {
    return m_streams[t]->host_fd.release();
}

void JumpTunnel::release(Ticket t) {
    Stream& s = *m_streams[t];
    s.released = true;
    s.host_fd.reset();
}

void JumpTunnel::close_stream(Stream& s, State state, std::string error) {
    s.pump_fd.reset();
    if (state == State::failed) s.host_fd.reset();
    s.state = state;
    if (!error.empty()) s.error = std::move(error);
    if (m_owner == &s) m_owner = nullptr;
}

void JumpTunnel::fail_all(const std::string& error) {
    for (auto& s : m_streams)
        if (s->state == State::pending || s->state == State::open)
            close_stream(*s, State::failed, error);
    m_opening.clear();
}

void JumpTunnel::poll_set(std::vector<pollfd>& out) const {
    if (m_connection.fd() >= 0) out.emplace_back(m_connection.fd(), m_connection.wanted_events());
    for (const auto& s : m_streams) {
        if (s->state != State::open || !s->pump_fd) continue;
        short events = 0;
        if (s->to_channel.empty() && !s->socket_eof) events |= POLLIN;
        if (!s->to_socket.empty()) events |= POLLOUT;
        if (events) out.push_back({s->pump_fd.get(), events, 0});
    }
}

// Starts the direct-tcpip channel of the first queued stream. False while it waits.
bool JumpTunnel::start_open(Stream& s) {
    LIBSSH2_SESSION* session = m_connection.session();
    // libssh2_channel_direct_tcpip_ex, but with a window of k_window instead of 2 MiB:
    // the session's socket is read for all its channels at once, so a host whose loop
    // turn has not come yet has up to a window queued in memory.
    if (s.open_message.empty()) {
        auto put_u32 = [&](std::uint32_t v) {
            for (int shift = 24; shift >= 0; shift -= 8)
                s.open_message += static_cast<char>((v >> shift) & 0xff);
        };
        auto put_string = [&](const std::string& text) {
            put_u32(static_cast<std::uint32_t>(text.size()));
            s.open_message += text;
        };
        put_string(s.address); // RFC 4254 7.2: host to connect, port, originator, its port
        put_u32(static_cast<std::uint32_t>(s.port));
        put_string("127.0.0.1");
        put_u32(22);
    }
    s.channel =
        libssh2_channel_open_ex(session, "direct-tcpip", sizeof("direct-tcpip") - 1, k_window,
                                LIBSSH2_CHANNEL_PACKET_DEFAULT, s.open_message.data(),
                                static_cast<unsigned int>(s.open_message.size()));
    if (!s.channel) {
        int rc = libssh2_session_last_errno(session);
        if (rc == LIBSSH2_ERROR_EAGAIN) return false;
        close_stream(s, State::failed,
                     fmt::format("jump host {} could not reach {}: {}", m_name,
                                 config::endpoint(s.address, s.port), m_connection.last_error(rc)));
        return true;
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
        close_stream(s, State::failed, fmt::format("socketpair: {}", std::strerror(errno)));
        return true;
    }
    s.host_fd.reset(pair[0]);
    s.pump_fd.reset(pair[1]);
    s.state = State::open;
    return true;
}

bool JumpTunnel::pump(Stream& s) {
    LIBSSH2_SESSION* session = m_connection.session();
    for (bool progress = true; progress;) {
        progress = false;
        // host -> channel
        if (s.to_channel.empty() && !s.socket_eof) {
            char buffer[k_chunk];
            ssize_t n = ::recv(s.pump_fd.get(), buffer, sizeof buffer, 0);
            if (n > 0) s.to_channel.assign(buffer, static_cast<std::size_t>(n));
            if (n == 0 || (n < 0 && errno != EAGAIN)) s.socket_eof = true;
        }
        while (s.to_channel_sent < s.to_channel.size()) {
            ssize_t n = libssh2_channel_write(s.channel, s.to_channel.data() + s.to_channel_sent,
                                              s.to_channel.size() - s.to_channel_sent);
            if (n == LIBSSH2_ERROR_EAGAIN) return !sending_half_done(session);
            if (n < 0) {
                close_stream(s, State::closed);
                return true;
            }
            s.to_channel_sent += static_cast<std::size_t>(n);
            progress = true;
        }
        s.to_channel.clear();
        s.to_channel_sent = 0;
        if (s.socket_eof && !s.eof_sent) {
            int rc = libssh2_channel_send_eof(s.channel);
            if (rc == LIBSSH2_ERROR_EAGAIN) return !sending_half_done(session);
            s.eof_sent = true;
        }
        // channel -> host
        if (s.to_socket.empty() && !s.channel_eof) {
            char buffer[k_chunk];
            ssize_t n = libssh2_channel_read(s.channel, buffer, sizeof buffer);
            if (n == LIBSSH2_ERROR_EAGAIN) {
                if (sending_half_done(session)) return false; // its window adjust is half sent
            } else if (n < 0) {
                s.channel_eof = true;
            } else if (n > 0) {
                s.to_socket.assign(buffer, static_cast<std::size_t>(n));
                progress = true;
            } else if (libssh2_channel_eof(s.channel)) {
                s.channel_eof = true;
            }
        }
        while (s.to_socket_sent < s.to_socket.size()) {
            ssize_t n = ::send(s.pump_fd.get(), s.to_socket.data() + s.to_socket_sent,
                               s.to_socket.size() - s.to_socket_sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EAGAIN) break;
            if (n < 0) {
                s.socket_eof = true;
                s.to_socket.clear();
                s.to_socket_sent = 0;
                break;
            }
            s.to_socket_sent += static_cast<std::size_t>(n);
            progress = true;
        }
        if (s.to_socket_sent == s.to_socket.size()) {
            s.to_socket.clear();
            s.to_socket_sent = 0;
        }
    }
    if (s.channel_eof && s.to_socket.empty() && s.pump_fd)
        ::shutdown(s.pump_fd.get(), SHUT_WR); // the host's session sees the far end close
    if ((s.released || s.socket_eof) && s.channel_eof) close_stream(s, State::closed);
    return true;
}

void JumpTunnel::advance() {
    if (!carried()) return;
    m_connection.advance();
    if (m_connection.phase() == Connection::Phase::failed) {
        std::string why = m_connection.failure().message;
        if (m_proxy) why += "; " + m_proxy->explain();
        fail_all(fmt::format("jump host {}: {} failed: {}", m_name,
                             util::to_string(m_connection.failure().stage), why));
        return;
    }
    if (!m_connection.ready()) return;
    // The owner of a half-sent packet goes first, and alone until it is done.
    if (m_owner) {
        Stream* owner = m_owner;
        if (owner->state == State::open && !pump(*owner)) return;
        m_owner = nullptr;
    }
    while (!m_opening.empty()) {
        Stream& s = *m_streams[m_opening.front()];
        if (s.state != State::pending) {
            m_opening.pop_front();
            continue;
        }
        if (!start_open(s)) {
            if (sending_half_done(m_connection.session())) return;
            break;
        }
        m_opening.pop_front();
    }
    for (auto& s : m_streams) {
        if (s->state != State::open) continue;
        if (s->released && s->pump_fd) s->socket_eof = true;
        if (!pump(*s)) {
            m_owner = s.get();
            return;
        }
    }
}

} // namespace clusterctl::ssh
