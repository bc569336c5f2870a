#pragma once
// One command on one session: open a channel, exec, write its stdin, read stdout and
// stderr apart until EOF, then the exit status (or the signal). Non-blocking: advance()
// does what it can and returns; the connection's wanted_events() says what to poll for.
//
// libssh2 1.10 rules kept here: one open and one request in flight per session (a
// session runs one ExecChannel at a time); after EAGAIN on a write, nothing else is sent
// until the same write, with the same buffer, completes (so no read, whose window
// adjust would send, happens meanwhile).

#include <cstdint>
#include <functional>
#include <libssh2.h>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::ssh {

enum class Stream { out, err };

class ExecChannel {
public:
    enum class Phase { opening, starting, running, closing, closed, failed };
    using OnData = std::function<void(Stream, std::string_view)>;

    // `input` is written to the command's stdin once it starts; stdin then stays open
    // until cancel() (the remote wrapper takes EOF on stdin as "stop").
    ExecChannel(LIBSSH2_SESSION* session, std::string command, std::string input);
    ~ExecChannel();
    ExecChannel(const ExecChannel&) = delete;
    ExecChannel& operator=(const ExecChannel&) = delete;

    void advance(const OnData& on_data);
    void cancel(); // sends EOF on stdin, as soon as the input is written

    Phase phase() const { return m_phase; }
    bool done() const { return m_phase == Phase::closed || m_phase == Phase::failed; }
    const std::string& error() const { return m_error; }
    int exit_status() const { return m_exit_status; }
    const std::string& exit_signal() const { return m_exit_signal; } // "TERM", or empty

private:
    bool write_input();
    bool read_streams(const OnData& on_data);
    void set_error(std::string_view what, int rc);

    LIBSSH2_SESSION* m_session;
    LIBSSH2_CHANNEL* m_channel = nullptr;
    std::string m_command, m_input;
    std::size_t m_written = 0;
    bool m_cancel = false, m_eof_sent = false;
    Phase m_phase = Phase::opening;
    std::string m_error;
    int m_exit_status = -1;
    std::string m_exit_signal;
};

} // namespace clusterctl::ssh
