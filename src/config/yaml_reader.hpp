#pragma once
// Typed access to a yaml-cpp tree where every failure is a Diagnostic at the node's
// line and column. Private to config/: only training_config.cpp reads YAML.

#include "clusterctl/config/variables.hpp"
#include "clusterctl/util/result.hpp"

#include <string>
#include <string_view>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace clusterctl::config {

class YamlReader {
public:
    YamlReader(std::string file, VariableLookup lookup)
        : m_file(std::move(file)), m_lookup(std::move(lookup)) {}

    util::SourceLocation at(const YAML::Node& node) const;
    // A node (and everything under it) that came from elsewhere than the file: a --set
    // value parsed from the command line. Its marks count from `origin`.
    void add_origin(const YAML::Node& node, const util::SourceLocation& origin);

    // Unknown or repeated keys of a mapping, with "did you mean" for typos.
    util::Status check_keys(const YAML::Node& map, std::string_view section,
                            const std::vector<std::string>& allowed) const;
    util::Status expect_map(const YAML::Node& node, std::string_view what) const;
    util::Status expect_list(const YAML::Node& node, std::string_view what) const;

    // A scalar as written, with no ${VAR} expansion (shell text such as `run:`).
    util::Result<std::string> raw_string(const YAML::Node& node, std::string_view what) const;
    // A scalar with ${VAR} expanded.
    util::Result<std::string> string(const YAML::Node& node, std::string_view what) const;
    util::Result<int> integer(const YAML::Node& node, std::string_view what, int min,
                              int max) const;
    util::Result<bool> boolean(const YAML::Node& node, std::string_view what) const;
    // A list of scalars (a single scalar counts as a list of one), each expanded.
    util::Result<std::vector<std::string>> string_list(const YAML::Node& node,
                                                       std::string_view what) const;

    const std::string& file() const { return m_file; }
    void set_lookup(VariableLookup lookup) { m_lookup = std::move(lookup); }
    // The text being read (it must outlive the reader's use): lets an error inside a
    // scalar be checked against the line it names.
    void set_text(std::string_view text) { m_text = text; }

private:
    util::SourceLocation inside_scalar(const util::SourceLocation& at,
                                       const util::SourceLocation& scalar) const;

    std::string m_file;
    std::string_view m_text;
    std::vector<std::pair<YAML::Node, util::SourceLocation>> m_origins;
    VariableLookup m_lookup;
};

} // namespace clusterctl::config
