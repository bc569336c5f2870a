#include "clusterctl/exec/line_tail.hpp"

#include <fmt/format.h>

namespace clusterctl::exec {

void LineTail::push(std::string_view line) {
    std::string& slot = m_slots[m_next];
    if (line.size() <= k_max_line) {
        slot.assign(line);
    } else {
        std::size_t cut = k_max_line;
        while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
            --cut; // not inside a UTF-8 sequence
        slot.assign(line.substr(0, cut));
        fmt::format_to(std::back_inserter(slot), " ... ({} more bytes)", line.size() - cut);
    }
    m_next = (m_next + 1) % k_lines;
    if (m_size < k_lines) ++m_size;
}

std::vector<std::string> LineTail::lines() const {
    std::vector<std::string> out;
    out.reserve(m_size);
    for (std::size_t i = 0; i < m_size; ++i)
        out.push_back(m_slots[(m_next + k_lines - m_size + i) % k_lines]);
    return out;
}

} // namespace clusterctl::exec
