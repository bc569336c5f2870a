#include "clusterctl/util/environment.hpp"

#include <unistd.h>

extern char** environ;

namespace clusterctl::util {

Environment Environment::from_process() {
    Environment env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view text(*entry);
        auto eq = text.find('=');
        if (eq == std::string_view::npos) continue;
        env.m_vars.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
    return env;
}

std::optional<std::string> Environment::get(std::string_view name) const {
    auto it = m_vars.find(name);
    if (it == m_vars.end()) return std::nullopt;
    return it->second;
}

std::string Environment::home() const {
    return get("HOME").value_or("/");
}

std::string Environment::user() const {
    if (auto u = get("USER"); u && !u->empty()) return *u;
    if (auto u = get("LOGNAME"); u && !u->empty()) return *u;
    return "root";
}

std::string expand_tilde(std::string_view path, const Environment& env) {
    if (path == "~") return env.home();
    if (path.starts_with("~/")) return env.home() + std::string(path.substr(1));
    return std::string(path);
}

} // namespace clusterctl::util
