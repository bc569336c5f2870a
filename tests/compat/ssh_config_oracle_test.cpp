// clusterctl's ssh_config against `ssh -G` (OpenSSH's own reading of the same file, no
// connection made), key by key, for every key clusterctl reads.
//
// Each file in ssh_config/ is one case: an ssh_config whose first lines say
//   # hosts: NAME...               the names looked up (each is one comparison of all keys)
//   # differs: KEY WHY             a key (or "error") that is meant to differ, and why
// "@CORPUS@" in a file stands for the corpus folder (Include of absolute paths). Every
// case also runs with CRLF line endings. A "differs" line must still differ somewhere in
// its file, so a fixed difference cannot hide behind a stale note; docs/COMPATIBILITY.md
// lists the same differences.

#include "clusterctl/config/ssh_config.hpp"
#include "oracle.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <map>
#include <openssl/evp.h>
#include <pwd.h>
#include <set>
#include <sys/stat.h>

using namespace clusterctl;
namespace fs = std::filesystem;

namespace {

const std::string k_corpus = std::string(CLUSTERCTL_COMPAT_DIR) + "/ssh_config";

struct Case {
    std::string name;
    std::string text;
    std::vector<std::string> hosts;
    std::map<std::string, std::string> differs; // key -> why
};

Case load_case(const fs::path& file) {
    Case c;
    c.name = file.filename().string();
    c.text = compat::read_file(file.string());
    std::string corpus = k_corpus;
    for (std::size_t at; (at = c.text.find("@CORPUS@")) != std::string::npos;)
        c.text.replace(at, 8, corpus);
    std::istringstream in(c.text);
    for (std::string line; std::getline(in, line) && line.rfind("#", 0) == 0;) {
        if (line.rfind("# hosts:", 0) == 0) {
            for (auto& w : compat::words(line.substr(8)))
                c.hosts.push_back(w);
        } else if (line.rfind("# differs:", 0) == 0) {
            auto w = compat::words(line.substr(10));
            c.differs[w.at(0)] = line.substr(line.find(w.at(0)) + w.at(0).size());
        }
    }
    return c;
}

// What the comparison needs of ssh -G's output: key -> values (identityfile repeats).
using Dump = std::map<std::string, std::vector<std::string>>;

Dump parse_dump(const std::string& out) {
    Dump d;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        auto space = line.find(' ');
        if (space == std::string::npos) continue;
        d[line.substr(0, space)].push_back(line.substr(space + 1));
    }
    return d;
}

std::string one(const Dump& d, const std::string& key) {
    auto it = d.find(key);
    return it == d.end() ? "" : it->second.front();
}

std::string sha1_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha1(), nullptr);
    std::string out;
    for (unsigned i = 0; i < n; ++i)
        out += fmt::format("{:02x}", digest[i]);
    return out;
}

// ssh -G prints IdentityFile as written; this is how ssh expands it when it loads the key,
// from the values ssh -G printed (the test's own expansion, not clusterctl's).
std::string expand_identity(std::string v, const Dump& d, const config::LocalHost& local,
                            const std::string& host_arg) {
    if (v.rfind("~/", 0) == 0 || v == "~") v = local.home + v.substr(1);
    std::string alias = one(d, "hostkeyalias").empty() ? host_arg : one(d, "hostkeyalias");
    std::map<char, std::string> t{
        {'h', one(d, "hostname")},
        {'p', one(d, "port")},
        {'r', one(d, "user")},
        {'n', host_arg},
        {'u', local.user},
        {'d', local.home},
        {'l', local.hostname},
        {'L', local.hostname.substr(0, local.hostname.find('.'))},
        {'i', local.uid},
        {'k', alias},
        {'C', sha1_hex(local.hostname + one(d, "hostname") + one(d, "port") + one(d, "user"))},
        {'%', "%"}};
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '$' && i + 1 < v.size() && v[i + 1] == '{') {
            auto close = v.find('}', i);
            const char* value = std::getenv(v.substr(i + 2, close - i - 2).c_str());
            out += value ? value : "";
            i = close;
        } else if (v[i] == '%' && i + 1 < v.size() && t.count(v[i + 1])) {
            out += t[v[++i]];
        } else {
            out += v[i];
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : " ") + s;
    return out;
}

// A ProxyJump chain in one normal form: [user@]host[:port] hops, numeric hosts bracketed.
std::string chain_text(const std::vector<config::JumpHop>& hops) {
    std::string chain;
    for (const auto& hop : hops) {
        bool numeric = hop.host.find(':') != std::string::npos ||
                       hop.host.find_first_not_of("0123456789.") == std::string::npos;
        std::string h = numeric ? "[" + hop.host + "]" : hop.host;
        chain += fmt::format("{}{}{}{}", chain.empty() ? "" : ",", hop.user ? *hop.user + "@" : "",
                             h, hop.port ? ":" + std::to_string(*hop.port) : "");
    }
    return chain;
}

// clusterctl's options in ssh -G's words, for the keys clusterctl reads.
std::map<std::string, std::string> ours_as_dump(const config::SshOptions& o,
                                                const config::LocalHost& local) {
    std::map<std::string, std::string> m;
    m["hostname"] = o.remote_host;
    m["user"] = o.user.value_or(local.user);
    m["port"] = std::to_string(o.port.value_or(22));
    m["identitiesonly"] = o.identities_only.value_or(false) ? "yes" : "no";
    std::string strict = o.strict_host_key_checking.value_or("ask");
    m["stricthostkeychecking"] = strict == "yes" ? "true" : strict == "no" ? "false" : strict;
    m["connecttimeout"] =
        o.connect_timeout && *o.connect_timeout > 0 ? std::to_string(*o.connect_timeout) : "none";
    m["serveraliveinterval"] = std::to_string(o.server_alive_interval.value_or(0));
    m["serveralivecountmax"] = std::to_string(o.server_alive_count_max.value_or(3));
    m["forwardagent"] = o.forward_agent.value_or(false) ? "yes" : "no";
    if (o.host_key_alias) m["hostkeyalias"] = *o.host_key_alias;
    if (o.identity_agent) m["identityagent"] = *o.identity_agent;
    if (o.proxy_command) m["proxycommand"] = *o.proxy_command;
    // ProxyJump none: ssh -G prints nothing (as if unset), and so does this.
    std::string chain = chain_text(o.proxy_jump);
    if (!chain.empty()) m["proxyjump"] = chain;
    if (!o.user_known_hosts_files.empty()) m["userknownhostsfile"] = join(o.user_known_hosts_files);
    if (o.user_known_hosts_none) m["userknownhostsfile"] = "none";
    if (!o.identity_files.empty()) m["identityfile"] = join(o.identity_files);
    return m;
}

// ssh -G's values in the same form. ProxyJump: ssh prints the hops before the last as
// written and the last one normalised; both are normalised here through the same rules.
std::map<std::string, std::string> theirs(const Dump& d, const config::LocalHost& local,
                                          const std::string& host_arg, const Case& c) {
    std::map<std::string, std::string> m;
    for (const char* key : {"hostname", "user", "port", "identitiesonly", "stricthostkeychecking",
                            "connecttimeout", "serveraliveinterval", "serveralivecountmax",
                            "forwardagent", "hostkeyalias", "identityagent", "proxycommand"})
        if (d.count(key)) m[key] = one(d, key);
    if (m["connecttimeout"] == "0") m["connecttimeout"] = "none";
    if (m.count("proxycommand") && m["proxycommand"] == "none") m.erase("proxycommand");
    if (m["forwardagent"] != "no" && m["forwardagent"] != "yes") m["forwardagent"] = "yes";
    if (d.count("proxyjump")) {
        std::string v = one(d, "proxyjump");
        if (v == "none") {
            m["proxyjump"] = "none";
        } else {
            m["proxyjump"] = chain_text(*config::parse_jump_chain(v, {"ssh -G", 1, 1}));
        }
    }
    // Files: only where the config set them (ssh fills in its own defaults otherwise).
    if (c.text.find("serKnownHostsFile") != std::string::npos ||
        c.text.find("serknownhostsfile") != std::string::npos) {
        std::string v = one(d, "userknownhostsfile");
        std::string defaults =
            local.home + "/.ssh/known_hosts " + local.home + "/.ssh/known_hosts2";
        if (!v.empty() && v != defaults) m["userknownhostsfile"] = v;
    }
    // IdentityFile: ssh lists its own defaults when the config gives none.
    static const std::vector<std::string> k_defaults{
        "~/.ssh/id_rsa",        "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519",
        "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss",  "~/.ssh/id_dsa"};
    auto raw_ids = d.count("identityfile") ? d.at("identityfile") : std::vector<std::string>{};
    if (raw_ids != k_defaults) {
        std::vector<std::string> ids;
        for (const auto& raw : raw_ids) {
            std::string e = expand_identity(raw, d, local, host_arg);
            if (std::find(ids.begin(), ids.end(), e) == ids.end()) ids.push_back(e);
        }
        if (!ids.empty()) m["identityfile"] = join(ids);
    }
    return m;
}

config::LocalHost local_host() {
    config::LocalHost local;
    const passwd* pw = ::getpwuid(::getuid());
    local.user = pw->pw_name;
    local.home = pw->pw_dir;
    local.uid = std::to_string(::getuid());
    char name[256] = {};
    ::gethostname(name, sizeof(name) - 1);
    local.hostname = name;
    return local;
}

class SshConfigOracle : public ::testing::TestWithParam<std::string> {};

void run_case(const Case& c, const std::string& text, const std::string& variant) {
    test_support::TempDir dir;
    std::string file = dir.write("config", text);
    ::chmod(file.c_str(), 0600);
    config::LocalHost local = local_host();
    util::Environment env({{"HOME", local.home}, {"USER", local.user}});
    for (const char* var : {"CLUSTERCTL_COMPAT_VAR"})
        if (const char* v = std::getenv(var)) env.set(var, v);
    auto parsed = config::SshConfig::parse(text, file, env);
    std::set<std::string> differed;
    for (const auto& host : c.hosts) {
        SCOPED_TRACE(fmt::format("{} ({}) host {}", c.name, variant, host));
        auto oracle = compat::run_tool({"ssh", "-G", "-F", file, host});
        util::Result<config::SshOptions> ours =
            parsed ? parsed->lookup(host, local, env)
                   : util::Result<config::SshOptions>(util::fail(parsed.error()));
        bool they_fail = oracle.exit_code != 0;
        bool we_fail = !ours.ok();
        if (they_fail || we_fail) {
            if (they_fail == we_fail) continue;
            differed.insert("error");
            if (c.differs.count("error")) continue;
            ADD_FAILURE() << (they_fail ? "ssh -G refuses it: " + oracle.err
                                        : "clusterctl refuses it: " + ours.error().str());
            continue;
        }
        auto want = theirs(parse_dump(oracle.out), local, host, c);
        auto got = ours_as_dump(*ours, local);
        std::set<std::string> keys;
        for (const auto& [k, _] : want)
            keys.insert(k);
        for (const auto& [k, _] : got)
            keys.insert(k);
        for (const auto& key : keys) {
            std::string w = want.count(key) ? want[key] : "(unset)";
            std::string g = got.count(key) ? got[key] : "(unset)";
            if (w == g) continue;
            differed.insert(key);
            if (c.differs.count(key)) continue;
            ADD_FAILURE() << key << ": ssh -G says " << w << ", clusterctl " << g;
        }
    }
    for (const auto& [key, why] : c.differs)
        EXPECT_TRUE(differed.count(key))
            << c.name << " (" << variant << "): '" << key << "' is listed as differing (" << why
            << ") but agrees now: drop the note here and in docs/COMPATIBILITY.md";
}

TEST_P(SshConfigOracle, AgreesWithSshG) {
    Case c = load_case(GetParam());
    ASSERT_FALSE(c.hosts.empty()) << c.name << " has no '# hosts:' line";
    run_case(c, c.text, "LF");
    std::string crlf;
    for (char ch : c.text) {
        if (ch == '\n') crlf += '\r';
        crlf += ch;
    }
    run_case(c, crlf, "CRLF");
}

std::vector<std::string> corpus_files() {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(k_corpus))
        if (e.path().extension() == ".conf") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

INSTANTIATE_TEST_SUITE_P(Corpus, SshConfigOracle, ::testing::ValuesIn(corpus_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                             std::string n = fs::path(param.param).stem().string();
                             std::replace_if(
                                 n.begin(), n.end(), [](char ch) { return !std::isalnum(ch); },
                                 '_');
                             return n;
                         });

// The corpus is wide enough to mean something: at least this many lookups and keys.
TEST(SshConfigOracleCorpus, IsWide) {
    auto files = corpus_files();
    std::size_t lookups = 0;
    for (const auto& f : files)
        lookups += load_case(f).hosts.size();
    EXPECT_GE(files.size(), 30u);
    EXPECT_GE(lookups, 150u);
    std::cout << files.size() << " ssh_config cases, " << lookups
              << " host lookups each with LF and CRLF line endings\n";
}

} // namespace
