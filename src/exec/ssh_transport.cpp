#include "clusterctl/exec/ssh_transport.hpp"

#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/upload_items.hpp"
#include "clusterctl/ssh/connection.hpp"
#include "clusterctl/ssh/exec_channel.hpp"
#include "clusterctl/ssh/jump_tunnel.hpp"
#include "clusterctl/ssh/library.hpp"
#include "clusterctl/ssh/proxy_command.hpp"
#include "clusterctl/ssh/sftp_fetch.hpp"
#include "clusterctl/ssh/sftp_upload.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

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
        if (spec.ssh.host_key_alias) m_connection.set_host_key_alias(*spec.ssh.host_key_alias);
        if (m_tunnel) {
            m_ticket = m_tunnel->open(spec.address, spec.ssh.port);
        } else if (spec.ssh.proxy_command) {
            m_proxy = std::make_unique<ssh::ProxyCommand>(*spec.ssh.proxy_command);
            if (!m_proxy->error().empty())
                m_connection.fail(util::FailureStage::connect, m_proxy->error());
            else
                m_connection.start_on_socket(m_proxy->take_socket());
        } else {
            m_connection.start();
        }
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
    const LinkFailure& failure() const override {
        // A connection carried by a ProxyCommand that failed says what the command said.
        if (m_proxy && !m_proxy_explained &&
            m_connection.phase() == ssh::Connection::Phase::failed &&
            m_connection.stage() != util::FailureStage::lost) {
            m_proxy_failure = m_connection.failure();
            m_proxy_failure.message += "; " + m_proxy->explain();
            m_proxy_explained = true;
        }
        return m_proxy_explained ? m_proxy_failure : m_connection.failure();
    }
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
    std::unique_ptr<ssh::ProxyCommand> m_proxy;
    mutable LinkFailure m_proxy_failure;
    mutable bool m_proxy_explained = false;
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
        ssh::JumpTunnel* tunnel = host.ssh.jumps.empty() ? nullptr : &tunnel_for(host.ssh);
        auto link = std::make_unique<SshLink>(host, m_shared, tunnel);
        if (tunnel) tunnel->advance();
        return link;
    }

    ~SshTransport() override {
        // A tunnel may carry those made after it: the last made goes first.
        while (!m_tunnels.empty())
            m_tunnels.pop_back();
    }

    void shared_fds(std::vector<pollfd>& fds) override {
        for (auto& tunnel : m_tunnels)
            tunnel->poll_set(fds);
    }

    void advance_shared() override {
        for (auto& tunnel : m_tunnels)
            tunnel->advance();
    }

    std::vector<std::string> take_warnings() override {
        std::vector<std::string> out;
        out.swap(m_shared.warnings);
        return out;
    }

private:
    // The tunnel to a host's last jump host. A tunnel is one SSH session, keyed by the way
    // to it (ProxyCommand and the hops before); the hosts behind one jump host are spread
    // over up to k_sessions_per_jump sessions, a new one per k_hosts_per_session hosts,
    // because a session opens its channels one after another (libssh2 1.10).
    ssh::JumpTunnel& tunnel_for(const config::SshSettings& options) {
        ssh::JumpTunnel* through = nullptr;
        std::string key = options.proxy_command ? "ProxyCommand " + *options.proxy_command : "";
        for (std::size_t i = 0; i < options.jumps.size(); ++i) {
            const config::JumpHost& jump = options.jumps[i];
            key += fmt::format(" -> {}@{}", jump.user, config::endpoint(jump.address, jump.port));
            bool last = i + 1 == options.jumps.size();
            through = &pooled(key, jump, options, through, last);
        }
        return *through;
    }

    ssh::JumpTunnel& pooled(const std::string& key, const config::JumpHost& jump,
                            const config::SshSettings& options, ssh::JumpTunnel* through,
                            bool spread) {
        Pool& pool = m_pools[key];
        bool full = pool.tunnels.empty() || (spread && pool.hosts_on_last >= k_hosts_per_session &&
                                             pool.tunnels.size() < k_sessions_per_jump);
        if (full) {
            m_tunnels.push_back(std::make_unique<ssh::JumpTunnel>(
                jump, options, m_shared, through, through ? std::nullopt : options.proxy_command));
            pool.tunnels.push_back(m_tunnels.back().get());
            pool.hosts_on_last = 0;
        }
        if (!spread) return *pool.tunnels.back();
        ++pool.hosts_on_last;
        // Once every session is made, the hosts go round them.
        if (pool.tunnels.size() == k_sessions_per_jump && pool.hosts_on_last > k_hosts_per_session)
            return *pool.tunnels[pool.next++ % pool.tunnels.size()];
        return *pool.tunnels.back();
    }

    static constexpr std::size_t k_sessions_per_jump = 4;
    static constexpr std::size_t k_hosts_per_session = 16;
    struct Pool {
        std::vector<ssh::JumpTunnel*> tunnels;
        std::size_t hosts_on_last = 0, next = 0;
    };
    ssh::SshShared m_shared;
    std::vector<std::unique_ptr<ssh::JumpTunnel>> m_tunnels; // made in order: carriers first
    std::map<std::string, Pool> m_pools;
};

} // namespace

std::unique_ptr<Transport> make_ssh_transport(std::string agent_socket) {
    return std::make_unique<SshTransport>(std::move(agent_socket));
}

} // namespace clusterctl::exec
