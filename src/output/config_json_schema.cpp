#include "clusterctl/output/config_json_schema.hpp"

#include "clusterctl/config/schema.hpp"
#include "clusterctl/util/strings.hpp"

#include <string>
#include <string_view>

namespace clusterctl::output {
namespace {

using config::ConfigKey;
using config::ValueType;
using nlohmann::json;

// Any value may be written as ${VAR}, expanded before it is read as a number or a word.
const json k_variable = {{"type", "string"}, {"pattern", "\\$\\{"}};

json scalar_text() {
    return {{"type", json::array({"string", "number", "boolean"})}};
}

json one_or_list() {
    return {{"anyOf", json::array({scalar_text(), {{"type", "array"}, {"items", scalar_text()}}})}};
}

json words(std::string_view choices) {
    json list = json::array();
    for (const auto& word : util::split(choices, '|'))
        list.push_back(word);
    return list;
}

json value_schema(const ConfigKey& key) {
    switch (key.type) {
    case ValueType::section:
        return {{"type", "object"}};
    case ValueType::integer: {
        json any = json::array({{{"type", "integer"}}, k_variable});
        if (!key.choices.empty()) any.push_back({{"enum", words(key.choices)}});
        if (!key.pattern.empty()) any.push_back({{"type", "string"}, {"pattern", key.pattern}});
        return {{"anyOf", any}};
    }
    case ValueType::boolean:
        return {{"anyOf", json::array({{{"type", "boolean"}}, k_variable})}};
    case ValueType::choice:
        return {{"anyOf", json::array({{{"enum", words(key.choices)}}, k_variable})}};
    case ValueType::host_list:
    case ValueType::text_list:
        return one_or_list();
    case ValueType::variable:
        return {{"type", "string"}, {"pattern", "^[A-Za-z_][A-Za-z0-9_]*$"}};
    case ValueType::text:
    case ValueType::local_path:
    case ValueType::remote_path:
    case ValueType::shell:
        return scalar_text();
    }
    return json::object();
}

bool has_keys_under(const std::string& prefix) {
    for (const auto& key : config::config_schema())
        if (std::string_view(key.path).starts_with(prefix)) return true;
    return false;
}

// The schema of the section at `path` ("" for the top level, "setup[]", "env.*").
json section_schema(const std::string& path) {
    json properties = json::object();
    json any_name;
    for (const auto& key : config::config_schema()) {
        std::string_view p = key.path;
        std::string_view rest = p;
        if (!path.empty()) {
            if (p.size() <= path.size() + 1 || p.substr(0, path.size()) != path ||
                p[path.size()] != '.')
                continue;
            rest = p.substr(path.size() + 1);
        }
        std::string name(rest);
        bool list = name.ends_with("[]");
        if (list) name.resize(name.size() - 2);
        if (name.find('.') != std::string::npos || name.find('[') != std::string::npos) continue;
        json value = value_schema(key);
        std::string child(p);
        if (has_keys_under(child + "[].")) // a list of mappings: "setup" and "setup[].run"
            value = {{"type", "array"}, {"items", section_schema(child + "[]")}};
        else if (has_keys_under(child + ".")) // "node_env.*" holds "node_env.*.*"
            value = section_schema(child);
        if (!key.help.empty()) value["description"] = key.help;
        if (name == "*")
            any_name = std::move(value);
        else
            properties[name] = std::move(value);
    }
    json schema = {{"type", "object"}};
    if (!properties.empty()) schema["properties"] = std::move(properties);
    schema["additionalProperties"] = any_name.is_null() ? json(false) : any_name;
    return schema;
}

} // namespace

nlohmann::json config_json_schema() {
    json schema = section_schema("");
    json head = {{"$schema", "http://json-schema.org/draft-07/schema#"},
                 {"title", "clusterctl.yaml"},
                 {"description", "A clusterctl config: the cluster, the environment and secrets "
                                 "of every remote command, setup steps, model downloads, the "
                                 "torchrun launch and after: steps (docs/CONFIG.md)"}};
    head.update(schema);
    return head;
}

} // namespace clusterctl::output
