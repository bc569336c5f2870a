#pragma once
// Secret values, read on the machine clusterctl runs on. They live only here: the plan
// names secrets, the executor injects their values into a remote process's environment
// through its stdin, and every text shown to the user passes through mask().

#include "clusterctl/config/training_config.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterctl::config {

inline constexpr std::string_view k_secret_mask = "***";

class SecretStore {
public:
    void add(std::string name, std::string value);
    const std::string* find(std::string_view name) const;
    bool empty() const { return m_values.empty(); }

    // `text` with every secret value replaced by ***: for what remote commands print.
    std::string mask(std::string_view text) const;
    // The same for clusterctl's own text (a dry run): only where a value stands as a word of
    // its own, so a short value never mangles the words around it ("pytorch" keeps its "y").
    std::string mask_words(std::string_view text) const;

private:
    std::vector<std::pair<std::string, std::string>> m_values;
};

// Reads each secret from its local environment variable or file. A missing variable,
// an unreadable file or an empty value is an error at the secret's line in the config
// (every such secret in one error); with `required` false (commands that only look: hosts,
// validate, dry runs, job views) such a secret is left out.
util::Result<SecretStore> load_secrets(const std::vector<SecretSpec>& secrets,
                                       const util::Environment& env, bool required = true);

} // namespace clusterctl::config
