#pragma once
// Every keyword OpenSSH 9.2's ssh_config knows, and what clusterctl does with each: reads
// it, warns that it is not applied (it changes how ssh would connect, and clusterctl does
// not do that), or leaves it alone (it concerns what an interactive ssh does, not a
// launcher). A keyword not in the table is an error, as it is for ssh.

#include <string_view>

namespace clusterctl::config::ssh_keywords {

enum class Use {
    read,        // clusterctl reads it (ssh_config.cpp handles each)
    not_applied, // set for a host clusterctl connects to: one warning, with `why`
    no_effect,   // nothing a launcher does depends on it
};

struct Keyword {
    std::string_view name; // as ssh_config(5) spells it (matched in any case)
    Use use;
    std::string_view why = {}; // not_applied: what clusterctl does instead
};

// Null for a keyword ssh does not know.
const Keyword* find(std::string_view lower_case_name);

// The known keyword nearest to a misspelled one ("prot" -> "Port"), or empty.
std::string_view suggestion(std::string_view lower_case_name);

// The keyword as the man page spells it ("proxyjump" -> "ProxyJump"), for messages.
std::string_view display_name(std::string_view lower_case_name);

} // namespace clusterctl::config::ssh_keywords
