// clusterctl's host lists against ClusterShell's: `nodeset -e` and `nodeset -f` on the
// expressions in host_lists.txt, and ClusterShell's NodeSet (what nodeset runs) on
// thousands of random name sets, both ways: it must fold them as clusterctl does, and read
// clusterctl's folds back to the same names.

#include "clusterctl/config/host_list.hpp"
#include "oracle.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <random>
#include <set>

using namespace clusterctl;

namespace {

struct Expression {
    std::string text;
    std::string differs; // "expand", "fold", "error" or empty
    std::string why;
};

std::vector<Expression> corpus() {
    std::vector<Expression> out;
    std::istringstream in(
        compat::read_file(std::string(CLUSTERCTL_COMPAT_DIR) + "/host_lists.txt"));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.front() == '#') continue;
        Expression e;
        auto tab = line.find('\t');
        e.text = line.substr(0, tab);
        if (tab != std::string::npos) {
            auto note = line.substr(tab + 1);
            auto w = compat::words(note);
            if (w.size() < 3 || w[0] != "#" || w[1] != "differs:")
                throw std::runtime_error("bad note: " + line);
            e.differs = w[2];
            e.why = note.substr(note.find(w[2]) + w[2].size());
        }
        out.push_back(e);
    }
    return out;
}

TEST(HostListOracle, ExpressionsExpandAndFoldAsNodesetDoes) {
    int agreed = 0;
    for (const auto& e : corpus()) {
        SCOPED_TRACE(e.text);
        auto ours = config::expand_host_list(e.text, {"test", 1, 1});
        auto expanded = compat::run_tool({"nodeset", "-e", e.text});
        auto folded = compat::run_tool({"nodeset", "-f", e.text});
        bool they_fail = expanded.exit_code != 0;
        if (they_fail || !ours.ok()) {
            bool agree = they_fail == !ours.ok();
            EXPECT_EQ(agree, e.differs != "error")
                << (they_fail ? "nodeset refuses it: " + expanded.err
                              : "clusterctl refuses it: " + ours.error().str());
            agreed += agree;
            continue;
        }
        EXPECT_NE(e.differs, "error") << "both read it now: drop the note";
        auto theirs = compat::words(expanded.out);
        std::vector<std::string> mine = *ours;
        std::sort(theirs.begin(), theirs.end());
        std::sort(mine.begin(), mine.end());
        bool same_names = theirs == mine;
        EXPECT_EQ(same_names, e.differs != "expand")
            << "nodeset -e: " << expanded.out
            << "clusterctl: " << fmt::format("{}", fmt::join(*ours, " "));
        std::string their_fold = compat::words(folded.out).at(0);
        std::string our_fold = config::fold_host_list(*ours);
        EXPECT_EQ(their_fold == our_fold, e.differs != "fold")
            << "nodeset -f: " << their_fold << ", clusterctl: " << our_fold;
        agreed += same_names && their_fold == our_fold;
    }
    std::cout << agreed << " expressions agree with nodeset\n";
}

// Python with ClusterShell's NodeSet, one line in, one line out, for many cases at once.
std::vector<std::string> nodeset_batch(const std::vector<std::string>& lines, bool expand) {
    test_support::TempDir dir;
    std::string input;
    for (const auto& l : lines)
        input += l + "\n";
    std::string file = dir.write("cases", input);
    std::string script = expand ? "from ClusterShell.NodeSet import NodeSet\n"
                                  "import sys\n"
                                  "for l in open(sys.argv[1]):\n"
                                  "    print(' '.join(sorted(NodeSet(l.strip()))))\n"
                                : "from ClusterShell.NodeSet import NodeSet\n"
                                  "import sys\n"
                                  "for l in open(sys.argv[1]):\n"
                                  "    print(NodeSet(l.strip()))\n";
    // Debian's python, whose ClusterShell is what nodeset runs (not another python on PATH).
    auto r = compat::run_tool({"/usr/bin/python3", "-c", script, file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

// Name sets as clusters have them: prefixes and suffixes, padded and unpadded numbers,
// numbers crossing a digit count, two and three dimensions, long numbers.
std::vector<std::set<std::string>> random_sets(std::size_t count) {
    std::mt19937 rng(20261202);
    const char* patterns[] = {"node%", "n-%", "gpu%-ib", "rack%-node%", "r%n%",
                              "a.%.b", "x",   "%",       "c%-%-%",      "login%"};
    auto number = [&]() -> std::string {
        switch (rng() % 6) {
        case 0:
            return std::to_string(rng() % 16);
        case 1:
            return fmt::format("{:03}", rng() % 120);
        case 2:
            return std::to_string(95 + rng() % 10);
        case 3:
            return std::to_string(1000000000000ULL + rng() % 4);
        case 4:
            return fmt::format("{:0{}}", rng() % 12, 1 + rng() % 3);
        default:
            return std::to_string(1 + rng() % 4);
        }
    };
    std::vector<std::set<std::string>> sets;
    for (std::size_t i = 0; i < count; ++i) {
        std::set<std::string> names;
        std::size_t n = 1 + rng() % 30;
        std::size_t kinds = 1 + rng() % 3;
        std::vector<std::string> chosen;
        for (std::size_t k = 0; k < kinds; ++k)
            chosen.push_back(patterns[rng() % std::size(patterns)]);
        for (std::size_t tries = 0; names.size() < n && tries < 200; ++tries) {
            std::string name;
            for (char c : chosen[rng() % chosen.size()])
                name += c == '%' ? number() : std::string(1, c);
            names.insert(name);
        }
        sets.push_back(names);
    }
    return sets;
}

TEST(HostListOracle, RandomSetsFoldAsClusterShellFoldsThem) {
    auto sets = random_sets(3000);
    std::vector<std::string> lines, ours;
    for (const auto& s : sets) {
        lines.push_back(fmt::format("{}", fmt::join(s, ",")));
        ours.push_back(config::fold_host_list({s.begin(), s.end()}));
    }
    auto theirs = nodeset_batch(lines, false);
    ASSERT_EQ(theirs.size(), lines.size());
    int differ = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (theirs[i] == ours[i]) continue;
        if (++differ <= 10)
            ADD_FAILURE() << lines[i] << "\n  ClusterShell: " << theirs[i]
                          << "\n  clusterctl:   " << ours[i];
    }
    EXPECT_EQ(differ, 0) << "of " << lines.size();
    std::cout << lines.size() - static_cast<std::size_t>(differ) << " of " << lines.size()
              << " random name sets folded as ClusterShell folds them\n";
}

TEST(HostListOracle, ClusterShellReadsClusterctlsFoldsBackToTheSameNames) {
    auto sets = random_sets(3000);
    std::vector<std::string> folds, want;
    for (const auto& s : sets) {
        folds.push_back(config::fold_host_list({s.begin(), s.end()}));
        std::vector<std::string> sorted(s.begin(), s.end());
        std::sort(sorted.begin(), sorted.end());
        want.push_back(fmt::format("{}", fmt::join(sorted, " ")));
        auto back = config::expand_host_list(folds.back(), {"x", 1, 1});
        ASSERT_TRUE(back.ok()) << folds.back();
        EXPECT_EQ(std::set<std::string>(back->begin(), back->end()), s) << folds.back();
    }
    auto theirs = nodeset_batch(folds, true);
    ASSERT_EQ(theirs.size(), folds.size());
    for (std::size_t i = 0; i < folds.size(); ++i)
        EXPECT_EQ(theirs[i], want[i]) << folds[i];
}

} // namespace
