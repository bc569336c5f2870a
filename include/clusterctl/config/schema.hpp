#pragma once
// Every key of clusterctl.yaml, described once. The config reader accepts exactly these
// keys (an unknown key is an error with a did-you-mean), and the tests walk this table: a
// poison value is poured into every text-typed key, so a key added here is covered by
// them without anyone remembering to.
//
// Paths: "train.rdzv.port" for nested keys, "setup[].run" for a key of each item of a list,
// "env.*" for the entries of a map whose keys the user names (a variable, a host list).

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clusterctl::config {

enum class ValueType {
    section,     // a mapping of further keys (or a list of them, for "name[]")
    text,        // a value clusterctl uses as data: quoted wherever it reaches a shell
    local_path,  // a file or folder on this machine, relative to the config's folder
    remote_path, // a path on the nodes; quoted wherever it reaches a shell
    shell,       // shell text the user writes to be run (setup run:, activate:)
    integer,
    boolean,
    choice,    // one of a fixed set of words
    host_list, // a host list expression, "all", "first" or "last"
    text_list, // a list of text (a single value counts as a list of one)
    variable,  // the name of an environment variable
};

struct ConfigKey {
    std::string_view path;
    ValueType type;
    std::string_view example; // a value as it would be written, for docs and tests
    std::string_view help;
    // choice: its words, '|'-separated; integer: words taken besides a number ("auto").
    std::string_view choices = {};
    // integer: a form taken besides a number, as a regular expression ("MIN:MAX").
    std::string_view pattern = {};
};

std::span<const ConfigKey> config_schema();

// The keys directly under `section` ("" for the top level, "cluster", "setup[]",
// "train.rdzv"), in the schema's order: what the reader accepts there.
std::vector<std::string> keys_under(std::string_view section);

} // namespace clusterctl::config
