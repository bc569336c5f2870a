#include "clusterctl/config/secrets.hpp"

#include "clusterctl/util/text_file.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace clusterctl::config {

using util::error_at;
using util::fail;

void SecretStore::add(std::string name, std::string value) {
    m_values.emplace_back(std::move(name), std::move(value));
    // Longest first, so a secret that contains another is masked whole.
    std::stable_sort(m_values.begin(), m_values.end(), [](const auto& a, const auto& b) {
        return a.second.size() > b.second.size();
    });
}

const std::string* SecretStore::find(std::string_view name) const {
    for (const auto& [n, v] : m_values)
        if (n == name) return &v;
    return nullptr;
}

std::string SecretStore::mask(std::string_view text) const {
    std::string out(text);
    for (const auto& [name, value] : m_values) {
        if (value.empty()) continue;
        std::size_t pos = 0;
        while ((pos = out.find(value, pos)) != std::string::npos) {
            out.replace(pos, value.size(), k_secret_mask);
            pos += k_secret_mask.size();
        }
    }
    return out;
}

namespace {

// One secret's value, or why it has none.
util::Result<std::string> secret_value(const SecretSpec& s, const util::Environment& env) {
    std::string value;
    if (s.source == SecretSpec::Source::env) {
        auto v = env.get(s.reference);
        if (!v)
            return fail(error_at(
                s.where,
                fmt::format("secret {}: environment variable {} is not set", s.name, s.reference),
                fmt::format("export {} before running clusterctl", s.reference)));
        value = *v;
    } else {
        auto text = util::read_text_file(s.reference, "secret file for " + s.name, s.where);
        if (!text) return fail(text.error());
        value = std::move(*text);
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
            value.pop_back();
    }
    if (value.empty())
        return fail(error_at(s.where, fmt::format("secret {} is empty", s.name),
                             "give it a value, or remove it from secrets:"));
    return value;
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

} // namespace

std::string SecretStore::mask_words(std::string_view text) const {
    std::string out(text);
    for (const auto& [name, value] : m_values) {
        if (value.empty()) continue;
        std::size_t pos = 0;
        while ((pos = out.find(value, pos)) != std::string::npos) {
            std::size_t end = pos + value.size();
            bool whole = (pos == 0 || !word_char(out[pos - 1]) || !word_char(value.front())) &&
                         (end == out.size() || !word_char(out[end]) || !word_char(value.back()));
            if (!whole) {
                ++pos;
                continue;
            }
            out.replace(pos, value.size(), k_secret_mask);
            pos += k_secret_mask.size();
        }
    }
    return out;
}

util::Result<SecretStore> load_secrets(const std::vector<SecretSpec>& secrets,
                                       const util::Environment& env, bool required) {
    SecretStore store;
    std::vector<util::Diagnostic> missing;
    for (const auto& s : secrets) {
        auto value = secret_value(s, env);
        if (value)
            store.add(s.name, std::move(*value));
        else if (required)
            missing.push_back(value.error());
    }
    if (missing.empty()) return store;
    if (missing.size() == 1) return fail(missing.front());
    // Every one at once: the first's place, each named with its own line.
    util::Diagnostic all = missing.front();
    std::string each;
    for (const auto& d : missing)
        each += fmt::format("{}{} (line {})", each.empty() ? "" : "; ", d.message, d.where.line);
    all.message = fmt::format("{} secrets have no value: {}", missing.size(), each);
    all.hint = "export each variable or make each file readable; hosts, validate and --dry-run "
               "need none";
    return fail(all);
}

} // namespace clusterctl::config
