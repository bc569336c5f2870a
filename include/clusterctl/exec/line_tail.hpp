#pragma once
// The last lines a host printed, for the summary of a failure. Each line arrives here, so
// keeping one costs no allocation once the slots are warm, and a line is kept to its first
// k_max_line bytes (cut at a UTF-8 boundary, with how much was left out): a host printing
// megabyte lines must not make the summary, or clusterctl's memory, follow.

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::exec {

class LineTail {
public:
    static constexpr std::size_t k_lines = 20;
    static constexpr std::size_t k_max_line = 512;

    void push(std::string_view line);
    void clear() { m_size = m_next = 0; }
    std::vector<std::string> lines() const; // oldest first

private:
    std::array<std::string, k_lines> m_slots;
    std::size_t m_next = 0, m_size = 0;
};

} // namespace clusterctl::exec
