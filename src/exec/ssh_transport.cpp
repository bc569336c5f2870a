#include "clusterctl/exec/ssh_transport.hpp"

#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/upload_items.hpp"
#include "clusterctl/ssh/connection.hpp"
#include "clusterctl/ssh/exec_channel.hpp"
#include "clusterctl/ssh/jump_tunnel.hpp"
#include "clusterctl/ssh/library.hpp"
#include "clusterctl/ssh/sftp_fetch.hpp"
#include "clusterctl/ssh/sftp_upload.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace clusterctl::exec {

namespace {

// libssh2 1.10 sends a keepalive at most every 2 s (it raises an interval of 1 to 2), by a
// clock of whole seconds, and a live host's reply comes about one period after the last.
std::chrono::seconds keepalive_period(const config::SshSettings& options) {
    return std::chrono::seconds(std::max(2, options.server_alive_interval_s));
}

// Silence longer than this from a running host means it is gone: ServerAliveCountMax
// keepalives unanswered, and never less than two, or an idle host whose reply to each
// keepalive comes a little after the period would be declared lost.
std::chrono::seconds alive_window(const config::SshSettings& options) {
    return keepalive_period(options) * std::max(2, options.server_alive_count_max);
}

class SshLink final : public HostLink {
public:
    SshLink(const config::HostSpec& spec, ssh::SshShared& shared, ssh::JumpTunnel* tunnel)
        : m_spec(spec),
          m_connection(spec.name, spec.address, spec.ssh.port, spec.ssh.user,
                       spec.ssh.identity_files, spec.ssh.identities_only, spec.ssh, shared),
          m_tunnel(tunnel) {
        if (m_tunnel)
            m_ticket = m_tunnel->open(spec.address, spec.ssh.port);
        else
            m_connection.start();
    }
    ~SshLink() override {
        m_channel.reset();
        m_upload.reset();
        m_fetch.reset();
        if (m_tunnel) m_tunnel->release(m_ticket);
        // m_connection goes last: it shuts the socket down first, so a hung host cannot
        // block this.
    }

    Phase phase() const override {
        if (m_connection.phase() == ssh::Connection::Phase::failed) return Phase::failed;
        return m_connection.ready() ? Phase::ready : Phase::connecting;
    }
    const LinkFailure& failure() const override { return m_connection.failure(); }
    util::FailureStage stage() const override { return m_connection.stage(); }
    void fail(util::FailureStage stage, std::string message, bool retryable) override {
        m_connection.fail(stage, std::move(message), retryable);
    }

    bool behind_shared() const override { return m_tunnel && !m_tunneled; }
    void poll_set(std::vector<pollfd>& fds) const override {
        if (m_connection.fd() >= 0)
            fds.push_back({m_connection.fd(), m_connection.wanted_events(), 0});
    }

    void advance(const OutputSink& output) override {
        if (phase() == Phase::connecting) {
            if (!through_tunnel()) return;
            m_connection.advance();
            return;
        }
        if (phase() != Phase::ready) return;
        if (m_channel) {
            m_channel->advance(
                [&](ssh::Stream s, std::string_view data) { output(s == ssh::Stream::err, data); });
        } else if (m_upload) {
            m_upload->advance();
        } else if (m_fetch) {
            m_fetch->advance();
        }
    }

    Clock::time_point deadline() const override {
        return std::min(m_next_keepalive, m_liveness_check);
    }

    void on_deadline(Clock::time_point now) override {
        if (now >= m_liveness_check) {
            auto window = alive_window(m_spec.ssh);
            if (now - m_connection.last_received() >= window) {
                m_liveness_check = m_next_keepalive = k_never;
                m_connection.fail(
                    util::FailureStage::lost,
                    fmt::format("nothing received for {} s ({} keepalives {} s apart "
                                "unanswered; ServerAliveInterval, ServerAliveCountMax): host or "
                                "network down",
                                window.count(), window / keepalive_period(m_spec.ssh),
                                keepalive_period(m_spec.ssh).count()));
                return;
            }
            m_liveness_check = m_connection.last_received() + window;
        }
        if (now >= m_next_keepalive) {
            // 1.10's keepalive_send builds its packet on the stack: call it from this one
            // place only, and only when nothing else is half sent.
            LIBSSH2_SESSION* session = m_connection.session();
            if (!(libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND)) {
                int next = 0;
                libssh2_keepalive_send(session, &next);
            }
            m_next_keepalive = now + std::chrono::seconds(1);
        }
    }

    std::string start(TaskSpec task, Clock::time_point now) override {
        if (m_spec.ssh.server_alive_interval_s > 0) {
            libssh2_keepalive_config(m_connection.session(), 1,
                                     static_cast<unsigned>(keepalive_period(m_spec.ssh).count()));
            m_next_keepalive = now + std::chrono::seconds(1); // libssh2 says when
            m_liveness_check = now + alive_window(m_spec.ssh);
        }
        LIBSSH2_SESSION* session = m_connection.session();
        if (auto* run = std::get_if<RunTask>(&task)) {
            m_channel =
                std::make_unique<ssh::ExecChannel>(session, wrapper_command(), run->input());
        } else if (auto* push = std::get_if<PushTask>(&task)) {
            auto items = upload_items(push->files);
            if (!items) return items.error().message;
            m_upload = std::make_unique<ssh::SftpUpload>(session, std::move(*items), m_spec.name);
        } else {
            const auto& folder = std::get<FetchTask>(task).folder;
            m_fetch = std::make_unique<ssh::SftpFetch>(session, folder.source, folder.destination);
        }
        return "";
    }

    bool task_done() const override {
        if (m_channel) return m_channel->done();
        if (m_upload) return m_upload->done();
        if (m_fetch) return m_fetch->done();
        return true;
    }
    bool transfer_started() const override {
        return (m_upload && m_upload->started()) || (m_fetch && m_fetch->started());
    }
    bool cancel() override {
        if (!m_channel) return false;
        m_channel->cancel();
        return true;
    }

    TaskEnd task_end() const override {
        TaskEnd end;
        if (m_channel && m_channel->phase() == ssh::ExecChannel::Phase::failed) {
            end.how = TaskEnd::How::channel_failed;
            end.error = m_channel->error();
        } else if (m_channel) {
            end.exit_status = m_channel->exit_status();
            end.exit_signal = m_channel->exit_signal();
        } else {
            bool failed = m_fetch ? m_fetch->failed() : m_upload->failed();
            end.how = failed ? TaskEnd::How::transfer_failed : TaskEnd::How::transferred;
            end.transfer_stage = m_fetch ? util::FailureStage::fetch : util::FailureStage::push;
            if (failed) end.error = m_fetch ? m_fetch->error() : m_upload->error();
        }
        return end;
    }

    void end_task() override {
        m_channel.reset();
        m_upload.reset();
        m_fetch.reset();
        m_next_keepalive = m_liveness_check = k_never;
    }

private:
    // Behind a jump host the connection starts on the tunnel's stream once it is open.
    // False while there is nothing to do yet (or the tunnel failed the connection).
    bool through_tunnel() {
        if (!m_tunnel || m_tunneled) return true;
        switch (m_tunnel->state(m_ticket)) {
        case ssh::JumpTunnel::State::pending:
            return false;
        case ssh::JumpTunnel::State::open:
            m_tunneled = true;
            m_connection.start_on_socket(m_tunnel->take_socket(m_ticket));
            return true;
        default:
            m_connection.fail(util::FailureStage::connect, m_tunnel->error(m_ticket), true);
            return false;
        }
    }

    const config::HostSpec& m_spec;
    ssh::Connection m_connection;
    ssh::JumpTunnel* m_tunnel;
    ssh::JumpTunnel::Ticket m_ticket = 0;
    bool m_tunneled = false;
    std::unique_ptr<ssh::ExecChannel> m_channel;
    std::unique_ptr<ssh::SftpUpload> m_upload;
    std::unique_ptr<ssh::SftpFetch> m_fetch;
    Clock::time_point m_next_keepalive = k_never, m_liveness_check = k_never;
};

class SshTransport final : public Transport {
public:
    explicit SshTransport(std::string agent_socket) {
        m_shared.agent_socket = std::move(agent_socket);
    }

    std::string prepare(std::size_t hosts, int fanout) override {
        return ssh::raise_fd_limit(hosts + 64 + static_cast<std::size_t>(fanout) * 2);
    }

    std::unique_ptr<HostLink> connect(const config::HostSpec& host) override {
        ssh::JumpTunnel* tunnel = host.ssh.jump ? &tunnel_for(host.ssh) : nullptr;
        auto link = std::make_unique<SshLink>(host, m_shared, tunnel);
        if (tunnel) tunnel->advance();
        return link;
    }

    void shared_fds(std::vector<pollfd>& fds) override {
        for (auto& [key, tunnel] : m_tunnels)
            tunnel->poll_set(fds);
    }

    void advance_shared() override {
        for (auto& [key, tunnel] : m_tunnels)
            tunnel->advance();
    }

    std::vector<std::string> take_warnings() override {
        std::vector<std::string> out;
        out.swap(m_shared.warnings);
        return out;
    }

private:
    // One per jump host (user@host:port); a run rarely has more than one.
    ssh::JumpTunnel& tunnel_for(const config::SshSettings& options) {
        const config::JumpHost& jump = *options.jump;
        std::string key =
            fmt::format("{}@{}", jump.user, config::endpoint(jump.address, jump.port));
        for (auto& [k, tunnel] : m_tunnels)
            if (k == key) return *tunnel;
        m_tunnels.emplace_back(key, std::make_unique<ssh::JumpTunnel>(jump, options, m_shared));
        return *m_tunnels.back().second;
    }

    ssh::SshShared m_shared;
    std::vector<std::pair<std::string, std::unique_ptr<ssh::JumpTunnel>>> m_tunnels;
};

} // namespace

std::unique_ptr<Transport> make_ssh_transport(std::string agent_socket) {
    return std::make_unique<SshTransport>(std::move(agent_socket));
}

} // namespace clusterctl::exec
