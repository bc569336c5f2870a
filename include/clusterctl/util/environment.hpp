#pragma once
// The environment clusterctl runs in, as a value: the process environment in main, a map
// in tests. Nothing below the CLI calls getenv().

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace clusterctl::util {

class Environment {
public:
    Environment() = default;
    explicit Environment(std::map<std::string, std::string, std::less<>> vars)
        : m_vars(std::move(vars)) {}

    static Environment from_process();

    std::optional<std::string> get(std::string_view name) const;
    void set(std::string name, std::string value) { m_vars[std::move(name)] = std::move(value); }
    const std::map<std::string, std::string, std::less<>>& vars() const { return m_vars; }

    // $HOME, or "/" when unset.
    std::string home() const;
    // $USER, or $LOGNAME, or "root".
    std::string user() const;

private:
    std::map<std::string, std::string, std::less<>> m_vars;
};

// "~" and "~/x" become $HOME and $HOME/x; other paths are returned as they are.
std::string expand_tilde(std::string_view path, const Environment& env);

} // namespace clusterctl::util
