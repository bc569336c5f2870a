#include "clusterctl/output/log_writer.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
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

std::string LogWriter::finish() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_thread.joinable()) return m_error;
        m_stopping = true;
        m_work.notify_one();
    }
    m_thread.join();
    return m_error;
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
        lock.unlock();
        for (std::size_t done = 0; done < chunk.size();) {
            ssize_t n = ::write(fd, chunk.data() + done, chunk.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int error = n < 0 ? errno : ENOSPC;
                std::lock_guard guard(m_mutex);
                if (m_error.empty())
                    m_error = fmt::format("writing a host log: {}", std::strerror(error));
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
