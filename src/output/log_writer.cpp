#include "clusterctl/output/log_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace clusterctl::output {

void LogWriter::write(int fd, std::string chunk) {
    if (chunk.empty()) return;
    std::unique_lock lock(m_mutex);
    if (!m_thread.joinable()) {
        m_stopping = false;
        m_thread = std::thread([this] { run(); });
    }
    m_room.wait(lock, [&] { return m_pending < m_max_pending; });
    m_pending += chunk.size();
    m_queue.emplace_back(fd, std::move(chunk));
    m_work.notify_one();
}

const std::vector<LogWriter::WriteError>& LogWriter::finish() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_thread.joinable()) return m_failures;
        m_stopping = true;
        m_work.notify_one();
    }
    m_thread.join();
    return m_failures;
}

void LogWriter::run() {
    // Ctrl-C is for the event loop's thread to see.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_work.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
        if (m_queue.empty()) return; // stopping, and everything is written
        auto [fd, chunk] = std::move(m_queue.front());
        m_queue.pop_front();
        bool failed = std::any_of(m_failures.begin(), m_failures.end(),
                                  [fd = fd](const WriteError& f) { return f.fd == fd; });
        lock.unlock();
        for (std::size_t done = 0; !failed && done < chunk.size();) {
            ssize_t n = ::write(fd, chunk.data() + done, chunk.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int error = n < 0 ? errno : ENOSPC;
                std::lock_guard guard(m_mutex);
                m_failures.push_back({fd, std::strerror(error)});
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        lock.lock();
        m_pending -= chunk.size();
        m_room.notify_all();
    }
}

} // namespace clusterctl::output
