#pragma once
// Remote output as it arrives, merged: each complete line prefixed "host: " (aligned,
// coloured per host on a terminal), or JSON lines, or gathered into blocks of identical
// output (-b). Lines are buffered and written out whole, many per write, never a part of
// one: lines of different hosts cannot tear or interleave. Remote stdout goes to stdout,
// remote stderr to stderr; --json puts everything on stdout.

#include "clusterctl/report/host_outcome.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::output {

struct LiveOutputOptions {
    bool prefix = true;
    bool gather = false; // -b: identical output of several hosts once, under their list
    bool json = false;
    bool color = false;
};

class LiveOutput {
public:
    LiveOutput(std::ostream& out, std::ostream& err, std::vector<std::string> hosts,
               LiveOutputOptions options);

    void line(std::size_t host, bool is_stderr, std::string_view text);
    void step_end(std::size_t host, const report::StepResult& step);

    bool pending() const { return !m_out_buffer.empty() || !m_err_buffer.empty(); }
    void flush();
    void finish(); // -b: prints the gathered blocks

private:
    void append(std::string& buffer, std::size_t host, std::string_view text);

    std::ostream& m_out;
    std::ostream& m_err;
    std::vector<std::string> m_hosts;
    std::vector<std::string> m_prefixes;
    LiveOutputOptions m_options;
    std::string m_out_buffer, m_err_buffer;
    std::vector<std::string> m_gathered; // per host, -b
};

} // namespace clusterctl::output
