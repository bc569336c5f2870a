#include "clusterctl/ssh/exec_channel.hpp"

#include <array>
#include <fmt/format.h>

namespace clusterctl::ssh {
namespace {
constexpr std::size_t k_read_size = 64 * 1024;
}

ExecChannel::ExecChannel(LIBSSH2_SESSION* session, std::string command, std::string input)
    : m_session(session), m_command(std::move(command)), m_input(std::move(input)) {}

ExecChannel::~ExecChannel() {
    // A channel not closed properly goes with its session (Connection::close).
    if (m_channel && m_phase == Phase::closed) libssh2_channel_free(m_channel);
}

void ExecChannel::set_error(std::string_view what, int rc) {
    char* message = nullptr;
    libssh2_session_last_error(m_session, &message, nullptr, 0);
    m_error = fmt::format("{}: {} ({})", what, message && *message ? message : "error", rc);
    m_phase = Phase::failed;
}

void ExecChannel::cancel() {
    m_cancel = true;
}

bool ExecChannel::write_input() {
    while (m_written < m_input.size()) {
        ssize_t n = libssh2_channel_write(m_channel, m_input.data() + m_written,
                                          m_input.size() - m_written);
        if (n == LIBSSH2_ERROR_EAGAIN) return false;
        if (n < 0) {
            set_error("writing the command's input", static_cast<int>(n));
            return false;
        }
        m_written += static_cast<std::size_t>(n);
    }
    if (m_cancel && !m_eof_sent) {
        int rc = libssh2_channel_send_eof(m_channel);
        if (rc == LIBSSH2_ERROR_EAGAIN) return false;
        // The remote end may have gone already: EOF then has nobody to reach.
        m_eof_sent = true;
    }
    return true;
}

// Drains both streams: one can return EAGAIN while the other has data queued, and they
// share one window. False when nothing more can be done now.
bool ExecChannel::read_streams(const OnData& on_data) {
    std::array<char, k_read_size> buffer;
    bool progress = true;
    while (progress) {
        progress = false;
        for (Stream s : {Stream::out, Stream::err}) {
            ssize_t n = libssh2_channel_read_ex(m_channel, s == Stream::out ? 0 : 1, buffer.data(),
                                                buffer.size());
            if (n > 0) {
                on_data(s, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
                progress = true;
            } else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
                set_error("reading the command's output", static_cast<int>(n));
                return false;
            }
        }
    }
    return true;
}

void ExecChannel::advance(const OnData& on_data) {
    for (;;) {
        switch (m_phase) {
        case Phase::opening:
            m_channel = libssh2_channel_open_session(m_session);
            if (!m_channel) {
                int rc = libssh2_session_last_errno(m_session);
                if (rc != LIBSSH2_ERROR_EAGAIN) set_error("opening a channel", rc);
                return;
            }
            m_phase = Phase::starting;
            break;
        case Phase::starting: {
            int rc = libssh2_channel_exec(m_channel, m_command.c_str());
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            if (rc != 0) {
                set_error("starting the command", rc);
                return;
            }
            m_phase = Phase::running;
            break;
        }
        case Phase::running:
            if (!write_input()) return;
            if (!read_streams(on_data)) return;
            if (!libssh2_channel_eof(m_channel)) return;
            m_phase = Phase::closing;
            break;
        case Phase::closing: {
            int rc = libssh2_channel_close(m_channel);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            rc = libssh2_channel_wait_closed(m_channel);
            if (rc == LIBSSH2_ERROR_EAGAIN) return;
            m_exit_status = libssh2_channel_get_exit_status(m_channel);
            char* signal = nullptr;
            libssh2_channel_get_exit_signal(m_channel, &signal, nullptr, nullptr, nullptr, nullptr,
                                            nullptr);
            if (signal) {
                m_exit_signal = signal;
                libssh2_free(m_session, signal);
            }
            m_phase = Phase::closed;
            return;
        }
        case Phase::closed:
        case Phase::failed:
            return;
        }
    }
}

} // namespace clusterctl::ssh
