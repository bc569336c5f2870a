#include "clusterctl/exec/local_transport.hpp"

#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/upload_items.hpp"
#include "clusterctl/util/pipe.hpp"
#include "ready_link.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace clusterctl::exec {
namespace {

namespace fs = std::filesystem;

// A file put in place as SFTP puts it: a temporary name, then renamed, mode set.
std::string copy_item(const ssh::UploadItem& item, const std::string& tag) {
    std::error_code ec;
    if (item.directory) {
        fs::create_directories(item.remote_path, ec);
        if (!ec) fs::permissions(item.remote_path, static_cast<fs::perms>(item.mode | 0700), ec);
        return ec ? fmt::format("creating directory {}: {}", item.remote_path, ec.message()) : "";
    }
    std::string temp = ssh::partial_path(item.remote_path, tag);
    if (item.content) {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out << *item.content;
        if (!out.flush()) return fmt::format("writing {}: {}", temp, std::strerror(errno));
    } else if (!fs::copy_file(item.local_path, temp, fs::copy_options::overwrite_existing, ec)) {
        return fmt::format("copying '{}' to {}: {}", item.local_path, temp, ec.message());
    }
    fs::permissions(temp, static_cast<fs::perms>(item.mode), ec);
    fs::rename(temp, item.remote_path, ec);
    return ec ? fmt::format("renaming {} to {}: {}", temp, item.remote_path, ec.message()) : "";
}

class LocalLink final : public ReadyLink {
public:
    explicit LocalLink(const config::HostSpec& spec) : m_spec(spec) {}
    ~LocalLink() override { end_task(); }

    bool behind_shared() const override { return false; }

    void poll_set(std::vector<pollfd>& fds) const override {
        if (m_in && m_written < m_input.size()) fds.push_back({m_in.get(), POLLOUT, 0});
        if (m_out) fds.push_back({m_out.get(), POLLIN, 0});
        if (m_err) fds.push_back({m_err.get(), POLLIN, 0});
    }

    void advance(const OutputSink& output) override {
        if (m_pid <= 0 || m_done) return;
        write_input();
        drain(m_out, false, output);
        drain(m_err, true, output);
        if (!m_out && !m_err) reap();
    }

    // While a child that closed its output has not been reaped yet: look again soon.
    Clock::time_point deadline() const override { return m_reap_at; }
    void on_deadline(Clock::time_point) override { reap(); }

    std::string start(TaskSpec task, Clock::time_point) override {
        m_done = false;
        m_status = 0;
        m_signal.clear();
        m_error.clear();
        if (auto* run = std::get_if<RunTask>(&task)) return spawn(run->input());
        m_is_script = false;
        m_transfer = std::holds_alternative<PushTask>(task) ? util::FailureStage::push
                                                            : util::FailureStage::fetch;
        if (auto* push = std::get_if<PushTask>(&task)) {
            auto items = upload_items(push->files);
            if (!items) return items.error().message;
            for (const auto& item : *items)
                if (m_error = copy_item(item, m_spec.name); !m_error.empty()) break;
        } else {
            const auto& folder = std::get<FetchTask>(task).folder;
            std::error_code ec;
            fs::create_directories(folder.destination, ec);
            fs::copy(folder.source, folder.destination,
                     fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
            if (ec) m_error = fmt::format("copying {}: {}", folder.source, ec.message());
        }
        m_done = true;
        return "";
    }

    bool task_done() const override { return m_done; }
    bool transfer_started() const override { return !m_is_script; }
    bool cancel() override {
        if (!m_is_script || m_pid <= 0) return false;
        m_cancelled = true;
        if (m_written == m_input.size()) m_in.reset(); // EOF: the wrapper stops its group
        return true;
    }

    TaskEnd task_end() const override {
        TaskEnd end;
        if (!m_is_script) {
            end.how = m_error.empty() ? TaskEnd::How::transferred : TaskEnd::How::transfer_failed;
            end.transfer_stage = m_transfer;
            end.error = m_error;
            return end;
        }
        end.exit_status = m_status;
        end.exit_signal = m_signal;
        return end;
    }

    void end_task() override {
        m_in.reset();
        m_out.reset();
        m_err.reset();
        if (m_pid > 0 && !m_done) ::waitpid(m_pid, nullptr, WNOHANG);
        m_pid = -1;
        m_done = false;
        m_is_script = true;
        m_cancelled = false;
        m_reap_at = k_never;
    }

private:
    // The wrapper as sshd starts it: a session leader's bash, stdin/stdout/stderr on pipes,
    // in the home directory.
    std::string spawn(std::string input) {
        m_is_script = true;
        m_input = std::move(input);
        m_written = 0;
        util::UniqueFd in, out, err; // the child's ends, closed here once it has them
        if (!util::make_pipe(in, m_in) || !util::make_pipe(m_out, out) ||
            !util::make_pipe(m_err, err))
            return fmt::format("pipe: {}", std::strerror(errno));
        const std::string& command = wrapper_command();
        const char* home = std::getenv("HOME");
        m_pid = ::fork();
        if (m_pid == 0) {
            ::setsid();
            ::dup2(in.get(), 0);
            ::dup2(out.get(), 1);
            ::dup2(err.get(), 2);
            if (home && ::chdir(home) != 0) ::_exit(126);
            ::execl("/bin/bash", "bash", "-c", command.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int fd : {m_in.get(), m_out.get(), m_err.get()})
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (m_pid < 0) return fmt::format("fork: {}", std::strerror(errno));
        return "";
    }

    void write_input() {
        while (m_in && m_written < m_input.size()) {
            ssize_t n = ::write(m_in.get(), m_input.data() + m_written, m_input.size() - m_written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return; // EAGAIN, or it is gone (EPIPE): its output says the rest
            m_written += static_cast<std::size_t>(n);
        }
        if (m_cancelled) m_in.reset();
    }

    static void drain(util::UniqueFd& fd, bool is_stderr, const OutputSink& output) {
        char buffer[65536];
        while (fd) {
            ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n > 0) {
                output(is_stderr, std::string_view(buffer, static_cast<std::size_t>(n)));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
            fd.reset(); // EOF
        }
    }

    void reap() {
        int status = 0;
        pid_t got = ::waitpid(m_pid, &status, WNOHANG);
        if (got == 0) {
            m_reap_at = Clock::now() + std::chrono::milliseconds(10);
            return;
        }
        m_reap_at = k_never;
        m_done = true;
        m_in.reset();
        if (got < 0) return;
        if (WIFSIGNALED(status)) {
            const char* name = signal_name(WTERMSIG(status));
            m_signal = name ? name : "";
            m_status = 128 + WTERMSIG(status);
        } else {
            m_status = WEXITSTATUS(status);
        }
        m_pid = -1;
    }

    const config::HostSpec& m_spec;
    pid_t m_pid = -1;
    util::UniqueFd m_in, m_out, m_err;
    std::string m_input;
    std::size_t m_written = 0;
    bool m_is_script = true, m_done = false, m_cancelled = false;
    int m_status = 0;
    std::string m_signal, m_error;
    util::FailureStage m_transfer = util::FailureStage::push; // or fetch
    Clock::time_point m_reap_at = k_never;
};

class LocalTransport final : public Transport {
public:
    std::string prepare(std::size_t, int) override { return ""; }
    std::unique_ptr<HostLink> connect(const config::HostSpec& host) override {
        return std::make_unique<LocalLink>(host);
    }
    void shared_fds(std::vector<pollfd>&) override {}
    void advance_shared() override {}
    std::vector<std::string> take_warnings() override { return {}; }
};

} // namespace

std::unique_ptr<Transport> make_local_transport() {
    return std::make_unique<LocalTransport>();
}

} // namespace clusterctl::exec
