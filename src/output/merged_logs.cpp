#include "clusterctl/output/merged_logs.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <vector>

namespace clusterctl::output {
namespace {

struct Line {
    double stamp = 0;
    std::string_view node, text;
};

// "1733040000.123456 rest" -> (stamp, "rest"); nullopt-like false when unstamped.
bool take_stamp(std::string_view said, double& stamp, std::string_view& rest) {
    std::size_t i = 0;
    while (i < said.size() && said[i] >= '0' && said[i] <= '9')
        ++i;
    if (i == 0 || i >= said.size() || (said[i] != '.' && said[i] != ',')) return false;
    std::size_t whole = i++;
    while (i < said.size() && said[i] >= '0' && said[i] <= '9')
        ++i;
    if (i >= said.size() || said[i] != ' ' || i == whole + 1) return false;
    std::string number(said.substr(0, i));
    number[whole] = '.';
    stamp = std::strtod(number.c_str(), nullptr);
    rest = said.substr(i + 1);
    return true;
}

} // namespace

std::string merge_stamped_logs(std::string_view prefixed, int last) {
    std::vector<Line> lines;
    std::map<std::string_view, double> latest; // per node: an unstamped line keeps its place
    while (!prefixed.empty()) {
        auto nl = prefixed.find('\n');
        std::string_view line = prefixed.substr(0, nl);
        prefixed.remove_prefix(nl == std::string_view::npos ? prefixed.size() : nl + 1);
        auto colon = line.find(": ");
        Line l;
        if (colon == std::string_view::npos) {
            l.text = line;
        } else {
            l.node = line.substr(0, colon);
            std::string_view said = line.substr(colon + 2);
            if (!take_stamp(said, l.stamp, l.text)) {
                l.text = said;
                l.stamp = latest[l.node];
            }
            latest[l.node] = l.stamp;
        }
        lines.push_back(l);
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const Line& a, const Line& b) { return a.stamp < b.stamp; });
    std::size_t from = last >= 0 && lines.size() > static_cast<std::size_t>(last)
                           ? lines.size() - static_cast<std::size_t>(last)
                           : 0;
    std::string out;
    for (std::size_t i = from; i < lines.size(); ++i) {
        if (!lines[i].node.empty()) out.append(lines[i].node).append(": ");
        out.append(lines[i].text).append("\n");
    }
    return out;
}

} // namespace clusterctl::output
