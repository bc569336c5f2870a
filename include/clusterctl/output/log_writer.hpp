#pragma once
// Writes the per-host logs on a thread of its own, so that a slow --log-dir (an NFS home
// directory is common on clusters) never stalls the event loop that drives every host.
// The loop hands over whole chunks; the thread writes them in order, per file descriptor.
// It starts with the first chunk: a run that prints nothing starts no thread.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace clusterctl::output {

class LogWriter {
public:
    // Past `max_pending` bytes not yet written, write() waits: a disk slower than the
    // hosts' output slows the run down rather than fill memory.
    explicit LogWriter(std::size_t max_pending = std::size_t(64) << 20)
        : m_max_pending(max_pending) {}
    ~LogWriter() { finish(); }
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;

    // A descriptor that failed once (a full disk) gets no more writes.
    struct WriteError {
        int fd;
        std::string reason; // strerror's text
    };

    void write(int fd, std::string chunk);
    // Waits until every chunk is written and the thread has ended; then every descriptor
    // a write failed on, in the order they failed. A write() after it starts a new thread.
    const std::vector<WriteError>& finish();

private:
    void run();

    std::size_t m_max_pending;
    std::mutex m_mutex;
    std::condition_variable m_work, m_room;
    std::deque<std::pair<int, std::string>> m_queue;
    std::size_t m_pending = 0; // bytes in m_queue and in the chunk being written
    bool m_stopping = false;
    std::vector<WriteError> m_failures;
    std::thread m_thread;
};

} // namespace clusterctl::output
