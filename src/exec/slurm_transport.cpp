#include "clusterctl/exec/slurm_transport.hpp"

#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/upload_items.hpp"
#include "clusterctl/plan/slurm.hpp"
#include "clusterctl/util/pipe.hpp"
#include "clusterctl/util/strings.hpp"
#include "ready_link.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace clusterctl::exec {
namespace {

class SlurmTransport;
class SlurmLink;

// How srun said a task ended: "Exited with exit code 3", "Killed", "Terminated".
struct TaskStatus {
    std::optional<int> exit_code;
    std::string signal; // as sshd names it: KILL, TERM
    std::string text;
};

TaskStatus parse_task_status(std::string_view text) {
    TaskStatus status{std::nullopt, "", std::string(text)};
    constexpr std::string_view k_exited = "Exited with exit code ";
    if (text.rfind(k_exited, 0) == 0) {
        status.exit_code = util::parse_int(text.substr(k_exited.size()), 0, 255);
    } else if (text.rfind("Killed", 0) == 0) {
        status.signal = "KILL";
    } else if (text.rfind("Terminated", 0) == 0) {
        status.signal = "TERM";
    } else if (text.find("Segmentation") != std::string_view::npos) {
        status.signal = "SEGV";
    } else if (text.rfind("Aborted", 0) == 0) {
        status.signal = "ABRT";
    }
    return status;
}

// One srun: the tasks a loop turn started, one per node.
struct Step {
    pid_t pid = -1;
    util::UniqueFd in, out, err;
    std::string input;
    std::size_t written = 0;
    bool close_input = false;        // every running host in it is cancelled: EOF once written
    std::vector<SlurmLink*> links;   // nullptr once a link is gone
    std::map<int, SlurmLink*> tasks; // srun's label -> its host, from the "node" line
    std::map<int, std::vector<std::pair<bool, std::string>>> unbound; // lines before that
    std::string partial[2];              // a line not yet ended, per stream
    std::vector<std::string> srun_lines; // srun's own (a step it could not create)
    bool bad_exit = false;               // a task failed: --kill-on-bad-exit stops the rest
    bool kill_on_bad_exit = false;
    bool reaped = false;
    int status = 0;

    bool pipes_closed() const { return !out && !err; }
};

class SlurmLink final : public ReadyLink {
public:
    SlurmLink(SlurmTransport& transport, const config::HostSpec& spec)
        : m_transport(transport), m_spec(spec) {}
    ~SlurmLink() override;

    // Its output comes through the step, which the transport reads: step it after that.
    bool behind_shared() const override { return m_running; }
    void poll_set(std::vector<pollfd>&) const override {}
    void advance(const OutputSink& output) override {
        std::vector<std::pair<bool, std::string>> pending;
        pending.swap(m_output);
        if (!m_is_script) return; // a push's script: its output only explains a failure
        for (const auto& [is_stderr, text] : pending)
            output(is_stderr, text);
    }
    Clock::time_point deadline() const override;
    void on_deadline(Clock::time_point now) override;

    std::string start(TaskSpec task, Clock::time_point now) override;
    bool task_done() const override { return m_running && m_done; }
    bool transfer_started() const override { return !m_is_script && m_step && m_step->pid > 0; }
    bool cancel() override;
    TaskEnd task_end() const override;
    void end_task() override;

    // From the step.
    const std::string& name() const { return m_spec.name; }
    const std::string& script() const { return m_script; }
    bool running() const { return m_running && !m_done; }
    bool cancelled() const { return m_cancelled; }
    void attach(std::shared_ptr<Step> step) { m_step = std::move(step); }
    void line(bool is_stderr, std::string text);
    void srun_said(TaskStatus status) { m_srun_status = std::move(status); }
    // srun: "Node failure on NODE": the node is gone; its task ends here, as lost.
    void lost(std::string why) {
        if (!m_running || m_done) return;
        m_lost = std::move(why);
        m_done = true;
    }
    void step_ended();

private:
    SlurmTransport& m_transport;
    const config::HostSpec& m_spec;
    std::shared_ptr<Step> m_step;
    std::string m_script;
    bool m_is_script = true, m_fail_fast = false;
    bool m_running = false, m_done = false, m_cancelled = false;
    bool m_started = false; // the node line came: srun ran the task
    std::optional<int> m_exit[2];
    std::optional<TaskStatus> m_srun_status;
    std::vector<std::pair<bool, std::string>> m_output;
    std::string m_error_tail; // a push's last line of stderr
    int m_step_status = 0;
    std::vector<std::string> m_srun_lines;
    bool m_others_failed = false;
    std::string m_lost;
};

class SlurmTransport final : public Transport {
public:
    explicit SlurmTransport(SlurmSteps steps) : m_steps(std::move(steps)) {}
    ~SlurmTransport() override;

    std::string prepare(std::size_t hosts, int fanout) override {
        if (static_cast<std::size_t>(std::max(1, fanout)) < hosts)
            return fmt::format("--fanout {} is below the {} nodes: each group of nodes started "
                               "together is a Slurm step of its own",
                               fanout, hosts);
        return "";
    }
    std::unique_ptr<HostLink> connect(const config::HostSpec& host) override {
        return std::make_unique<SlurmLink>(*this, host);
    }
    void shared_fds(std::vector<pollfd>& fds) override;
    void advance_shared() override;
    std::vector<std::string> take_warnings() override { return std::exchange(m_warnings, {}); }

    void queue(SlurmLink* link, bool fail_fast, int grace_s) {
        m_queued.push_back(link);
        m_queued_fail_fast = m_queued_fail_fast || fail_fast;
        m_queued_grace_s = std::max(m_queued_grace_s, grace_s);
    }
    // The link's task is over, or the link is gone: nothing of `step` reaches it any more.
    void detach(SlurmLink* link, Step& step);
    void forget(SlurmLink* link);
    void cancelled(Step& step);
    void reap(Step& step);

private:
    void launch();
    void pump(Step& step);
    void read_stream(Step& step, int which);
    void on_line(Step& step, int which, std::string_view line);
    SlurmLink* node_link(Step& step, std::string_view node) const;

    SlurmSteps m_steps;
    std::vector<SlurmLink*> m_queued;
    bool m_queued_fail_fast = false;
    int m_queued_grace_s = 0;
    std::vector<std::shared_ptr<Step>> m_running;
    std::vector<std::string> m_warnings;
};

// ---- the link ----

SlurmLink::~SlurmLink() {
    m_transport.forget(this);
}

std::string SlurmLink::start(TaskSpec task, Clock::time_point) {
    m_running = true;
    m_done = m_cancelled = m_started = m_others_failed = false;
    m_lost.clear();
    m_exit[0] = m_exit[1] = std::nullopt;
    m_srun_status.reset();
    m_output.clear();
    m_error_tail.clear();
    m_srun_lines.clear();
    m_step_status = 0;
    if (auto* run = std::get_if<RunTask>(&task)) {
        m_is_script = true;
        m_script = run->script;
        m_transport.queue(this, run->fail_fast, run->grace_s);
        return "";
    }
    if (std::holds_alternative<FetchTask>(task))
        return "fetching a folder is not supported by the Slurm backend (download.distribute: "
               "the nodes of a Slurm cluster download for themselves)";
    m_is_script = false;
    auto items = upload_items(std::get<PushTask>(task).files);
    if (!items) return items.error().message;
    std::vector<plan::ScriptFile> files;
    for (const auto& item : *items) {
        plan::ScriptFile f{item.remote_path, item.content.value_or(""), item.mode, item.directory};
        if (!item.directory && !item.content) {
            std::ifstream in(item.local_path, std::ios::binary);
            std::ostringstream bytes;
            bytes << in.rdbuf();
            if (!in) return fmt::format("cannot read '{}'", item.local_path);
            f.bytes = bytes.str();
        }
        files.push_back(std::move(f));
    }
    m_script = plan::files_script(files, m_spec.name);
    m_transport.queue(this, false, 0);
    return "";
}

void SlurmLink::line(bool is_stderr, std::string text) {
    if (auto control = parse_control_line(text)) {
        if (control->word == plan::k_control_node) {
            m_started = true;
            return;
        }
        if (control->word == plan::k_control_exit) {
            m_exit[is_stderr ? 1 : 0] = util::parse_int(control->argument, 0, 255).value_or(255);
            if (m_exit[0] && m_exit[1]) m_done = true;
            return;
        }
    }
    if (!m_is_script && is_stderr) m_error_tail = text;
    m_output.emplace_back(is_stderr, text + "\n");
}

void SlurmLink::step_ended() {
    if (!m_running || m_done) return;
    m_done = true;
    m_step_status = m_step->status;
    m_srun_lines = m_step->srun_lines;
    m_others_failed = m_step->bad_exit;
}

Clock::time_point SlurmLink::deadline() const {
    // srun closed its output but has not been reaped yet: look again soon.
    if (m_running && m_step && m_step->pipes_closed() && !m_step->reaped)
        return Clock::now() + std::chrono::milliseconds(10);
    return k_never;
}

void SlurmLink::on_deadline(Clock::time_point) {
    if (m_step && m_step->pipes_closed() && !m_step->reaped) m_transport.reap(*m_step);
}

bool SlurmLink::cancel() {
    if (!m_running || m_done || !m_is_script) return false;
    m_cancelled = true;
    if (m_step) m_transport.cancelled(*m_step);
    return true;
}

TaskEnd SlurmLink::task_end() const {
    TaskEnd end;
    if (!m_lost.empty()) {
        end.how = TaskEnd::How::host_lost;
        end.error = m_lost;
        return end;
    }
    std::optional<int> code = m_exit[1] ? m_exit[1] : m_exit[0];
    if (!code && m_srun_status) {
        code = m_srun_status->exit_code;
        if (!code) end.exit_signal = m_srun_status->signal;
        if (!code && end.exit_signal.empty()) {
            end.how = TaskEnd::How::channel_failed;
            end.error = "srun: " + m_srun_status->text;
        }
        // Killed by Slurm because another task failed (--kill-on-bad-exit).
        end.stopped_with_others = m_others_failed && !end.exit_signal.empty();
    }
    if (!code && !m_srun_status) {
        if (!m_started || m_step_status != 0) {
            end.how = TaskEnd::How::channel_failed;
            std::string said = m_srun_lines.empty() ? "" : ": " + m_srun_lines.back();
            end.error = m_started ? fmt::format("srun ended (status {}) before the node's "
                                                "script did{}",
                                                m_step_status, said)
                                  : fmt::format("srun did not start the task (status {}){}",
                                                m_step_status, said);
            end.stopped_with_others = m_others_failed && m_started;
        }
    }
    if (code) end.exit_status = *code;
    if (!m_is_script) {
        bool ok =
            end.how == TaskEnd::How::exited && end.exit_status == 0 && end.exit_signal.empty();
        end.transfer_stage = util::FailureStage::push;
        end.how = ok ? TaskEnd::How::transferred : TaskEnd::How::transfer_failed;
        if (!ok)
            end.error = !m_error_tail.empty() ? m_error_tail
                        : !end.error.empty()  ? end.error
                                              : fmt::format("exit {}", end.exit_status);
    }
    return end;
}

void SlurmLink::end_task() {
    if (m_step) m_transport.detach(this, *m_step);
    m_running = m_done = false;
    m_step.reset();
}

// ---- the transport ----

SlurmTransport::~SlurmTransport() {
    // A step still running (a host abandoned past its stop window): srun ends it (SIGTERM:
    // Slurm kills the step's tasks), and it is reaped here, 10 s at most.
    for (auto& step : m_running) {
        if (step->reaped || step->pid <= 0) continue;
        step->in.reset();
        ::kill(step->pid, SIGTERM);
        for (int i = 0; i < 1000; ++i) {
            if (::waitpid(step->pid, nullptr, WNOHANG) != 0) break;
            if (i == 999) {
                ::kill(step->pid, SIGKILL);
                ::waitpid(step->pid, nullptr, 0);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

void SlurmTransport::detach(SlurmLink* link, Step& step) {
    std::replace(step.links.begin(), step.links.end(), link, static_cast<SlurmLink*>(nullptr));
    for (auto it = step.tasks.begin(); it != step.tasks.end();)
        it = it->second == link ? step.tasks.erase(it) : std::next(it);
    cancelled(step); // one host fewer may leave only cancelled ones
}

void SlurmTransport::forget(SlurmLink* link) {
    m_queued.erase(std::remove(m_queued.begin(), m_queued.end(), link), m_queued.end());
    for (auto& step : m_running)
        detach(link, *step);
}

void SlurmTransport::cancelled(Step& step) {
    if (step.reaped) return;
    bool anyone_left = std::any_of(step.links.begin(), step.links.end(), [](SlurmLink* l) {
        return l && l->running() && !l->cancelled();
    });
    if (anyone_left) return;
    step.close_input = true;
    if (step.written == step.input.size()) step.in.reset();
}

void SlurmTransport::shared_fds(std::vector<pollfd>& fds) {
    if (!m_queued.empty()) launch();
    for (const auto& step : m_running) {
        if (step->pipes_closed()) reap(*step);
        if (step->in && step->written < step->input.size())
            fds.push_back({step->in.get(), POLLOUT, 0});
        if (step->out) fds.push_back({step->out.get(), POLLIN, 0});
        if (step->err) fds.push_back({step->err.get(), POLLIN, 0});
    }
}

void SlurmTransport::advance_shared() {
    for (auto& step : m_running)
        pump(*step);
    m_running.erase(std::remove_if(m_running.begin(), m_running.end(),
                                   [](const auto& step) {
                                       return step->reaped &&
                                              std::none_of(step->links.begin(), step->links.end(),
                                                           [](SlurmLink* l) { return l; });
                                   }),
                    m_running.end());
}

void SlurmTransport::launch() {
    auto step = std::make_shared<Step>();
    step->links = std::exchange(m_queued, {});
    step->kill_on_bad_exit = std::exchange(m_queued_fail_fast, false);
    plan::StepOptions options;
    options.job_id = m_steps.job_id;
    options.kill_on_bad_exit = step->kill_on_bad_exit;
    if (step->kill_on_bad_exit) options.gpus_per_node = m_steps.gpus_per_node;
    options.chdir = m_steps.home;
    std::vector<std::pair<std::string, std::string>> scripts;
    for (SlurmLink* link : step->links) {
        options.nodes.push_back(link->name());
        scripts.emplace_back(link->name(), link->script());
        link->attach(step);
    }
    step->input =
        wrapper_input(plan::step_script(scripts), std::max(1, std::exchange(m_queued_grace_s, 0)));
    std::vector<std::string> argv =
        plan::srun_argv(options, plan::slurm_task_command(wrapper_command()));
    argv.front() = m_steps.srun;

    util::UniqueFd in, out, err; // the child's ends
    if (!util::make_pipe(in, step->in) || !util::make_pipe(step->out, out) ||
        !util::make_pipe(step->err, err)) {
        step->srun_lines.push_back(fmt::format("pipe: {}", std::strerror(errno)));
        step->reaped = true;
        step->status = 255;
    } else {
        std::vector<char*> args, env;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        for (auto& e : m_steps.environment)
            env.push_back(e.data());
        env.push_back(nullptr);
        char** envp = m_steps.environment.empty() ? environ : env.data();
        step->pid = ::fork();
        if (step->pid == 0) {
            // srun in its own process group: a Ctrl-C at the terminal reaches clusterctl
            // only, which cancels the step itself.
            ::setpgid(0, 0);
            ::dup2(in.get(), 0);
            ::dup2(out.get(), 1);
            ::dup2(err.get(), 2);
            ::execvpe(args[0], args.data(), envp);
            std::string why =
                fmt::format("srun: cannot run {}: {}\n", m_steps.srun, std::strerror(errno));
            [[maybe_unused]] auto n = ::write(2, why.data(), why.size());
            ::_exit(127);
        }
        if (step->pid < 0) {
            step->srun_lines.push_back(fmt::format("fork: {}", std::strerror(errno)));
            step->reaped = true;
            step->status = 255;
            step->in.reset();
            step->out.reset();
            step->err.reset();
        }
        for (int fd : {step->in.get(), step->out.get(), step->err.get()})
            if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    m_running.push_back(step);
    if (step->reaped)
        for (SlurmLink* link : step->links)
            if (link) link->step_ended();
}

void SlurmTransport::pump(Step& step) {
    while (step.in && step.written < step.input.size()) {
        ssize_t n = ::write(step.in.get(), step.input.data() + step.written,
                            step.input.size() - step.written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; // EAGAIN, or srun is gone (EPIPE): its end says the rest
        step.written += static_cast<std::size_t>(n);
    }
    if (step.close_input && step.written == step.input.size()) step.in.reset();
    read_stream(step, 0);
    read_stream(step, 1);
    if (step.pipes_closed()) reap(step);
}

void SlurmTransport::read_stream(Step& step, int which) {
    util::UniqueFd& fd = which == 0 ? step.out : step.err;
    char buffer[65536];
    while (fd) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) {
            fd.reset();
            if (!step.partial[which].empty())
                on_line(step, which, std::exchange(step.partial[which], {}));
            return;
        }
        std::string& partial = step.partial[which];
        partial.append(buffer, static_cast<std::size_t>(n));
        std::size_t start = 0, nl;
        while ((nl = partial.find('\n', start)) != std::string::npos) {
            on_line(step, which, std::string_view(partial).substr(start, nl - start));
            start = nl + 1;
        }
        partial.erase(0, start);
    }
}

SlurmLink* SlurmTransport::node_link(Step& step, std::string_view node) const {
    for (SlurmLink* link : step.links)
        if (link && link->name() == node) return link;
    return nullptr;
}

// One line of srun's: "  3: text" from task 3, or srun's own ("srun: error: node-002:
// task 1: Exited with exit code 3").
void SlurmTransport::on_line(Step& step, int which, std::string_view line) {
    std::size_t i = line.find_first_not_of(' ');
    std::size_t digits = i == std::string_view::npos ? i : line.find_first_not_of("0123456789", i);
    if (digits != std::string_view::npos && digits > i && line.substr(digits, 2) == ": ") {
        int task = util::parse_int(line.substr(i, digits - i), 0, 1 << 30).value_or(-1);
        std::string text(line.substr(digits + 2));
        auto bound = step.tasks.find(task);
        if (bound == step.tasks.end()) {
            auto control = parse_control_line(text);
            if (control && control->word == plan::k_control_node) {
                if (SlurmLink* link = node_link(step, control->argument)) {
                    step.tasks[task] = link;
                    link->line(which == 1, text);
                    for (auto& [is_stderr, earlier] : step.unbound[task])
                        link->line(is_stderr, std::move(earlier));
                    step.unbound.erase(task);
                }
                return;
            }
            step.unbound[task].emplace_back(which == 1, std::move(text));
            return;
        }
        bound->second->line(which == 1, std::move(text));
        return;
    }
    // srun's own line.
    constexpr std::string_view k_error = "srun: error: ";
    constexpr std::string_view k_node_failure = "Node failure on ";
    if (line.rfind(k_error, 0) == 0) {
        std::string_view rest = line.substr(k_error.size());
        if (rest.rfind(k_node_failure, 0) == 0) {
            std::string_view node = rest.substr(k_node_failure.size());
            if (SlurmLink* link = node_link(step, node)) {
                // Slurm then ends the step's other tasks: they were stopped with it.
                step.bad_exit = true;
                link->lost(fmt::format("Slurm lost the node (srun: {})", rest));
                return;
            }
        }
        std::size_t colon = rest.find(": task ");
        if (colon != std::string_view::npos) {
            std::string_view node = rest.substr(0, colon);
            std::string_view after = rest.substr(colon + 7);
            std::size_t sep = after.find(": ");
            if (SlurmLink* link = node_link(step, node); link && sep != std::string_view::npos) {
                TaskStatus status = parse_task_status(after.substr(sep + 2));
                if (status.exit_code && *status.exit_code != 0) step.bad_exit = true;
                link->srun_said(std::move(status));
                return;
            }
        }
    }
    step.srun_lines.emplace_back(line);
    if (step.srun_lines.size() > 20) step.srun_lines.erase(step.srun_lines.begin());
}

void SlurmTransport::reap(Step& step) {
    if (step.reaped || step.pid <= 0) return;
    int status = 0;
    pid_t got = ::waitpid(step.pid, &status, WNOHANG);
    if (got == 0) return; // the links' deadline looks again
    step.reaped = true;
    step.in.reset();
    step.status = got < 0               ? 255
                  : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                        : WEXITSTATUS(status);
    for (SlurmLink* link : step.links)
        if (link) link->step_ended();
}

} // namespace

std::unique_ptr<Transport> make_slurm_transport(SlurmSteps steps) {
    return std::make_unique<SlurmTransport>(std::move(steps));
}

} // namespace clusterctl::exec
