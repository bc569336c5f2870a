#pragma once
// Cuts a byte stream into lines as it arrives. A line longer than the cap is passed on in
// pieces, so one host printing without newlines cannot make clusterctl hold unbounded
// memory; the partial last line comes out with flush().

#include <string>
#include <string_view>

namespace clusterctl::exec {

class LineSplitter {
public:
    explicit LineSplitter(std::size_t max_line = 1 << 20) : m_max_line(max_line) {}

    // Calls on_line(line) for each complete line in `data`, without its '\n'.
    template <typename OnLine> void feed(std::string_view data, OnLine&& on_line) {
        while (!data.empty()) {
            auto nl = data.find('\n');
            if (nl == std::string_view::npos) {
                m_partial.append(data);
                while (m_partial.size() >= m_max_line) {
                    on_line(std::string_view(m_partial).substr(0, m_max_line));
                    m_partial.erase(0, m_max_line);
                }
                return;
            }
            if (m_partial.empty()) {
                on_line(data.substr(0, nl)); // the common case: no copy
            } else {
                m_partial.append(data.substr(0, nl));
                on_line(std::string_view(m_partial));
                m_partial.clear();
            }
            data.remove_prefix(nl + 1);
        }
    }

    template <typename OnLine> void flush(OnLine&& on_line) {
        if (!m_partial.empty()) on_line(std::string_view(m_partial));
        m_partial.clear();
    }

    bool empty() const { return m_partial.empty(); }
    std::string_view partial() const { return m_partial; }

private:
    std::size_t m_max_line;
    std::string m_partial;
};

} // namespace clusterctl::exec
