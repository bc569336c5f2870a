#include "ssh_keywords.hpp"

#include "clusterctl/util/strings.hpp"

#include <vector>

namespace clusterctl::config::ssh_keywords {
namespace {

constexpr std::string_view k_algorithms = "libssh2's own choice of signature algorithms is used";
constexpr std::string_view k_never_run = "clusterctl never runs a command named in ssh_config "
                                         "other than ProxyCommand";

// OpenSSH 9.2's readconf.c keywords (aliases included; deprecated and unsupported ones are
// accepted and ignored, as ssh does).
constexpr Keyword k_keywords[] = {
    // Read.
    {"Host", Use::read},
    {"Match", Use::read},
    {"Include", Use::read},
    {"HostName", Use::read},
    {"User", Use::read},
    {"Port", Use::read},
    {"IdentityFile", Use::read},
    {"IdentityFile2", Use::read},
    {"IdentitiesOnly", Use::read},
    {"IdentityAgent", Use::read},
    {"ProxyJump", Use::read},
    {"ProxyCommand", Use::read},
    {"StrictHostKeyChecking", Use::read},
    {"UserKnownHostsFile", Use::read},
    {"UserKnownHostsFile2", Use::no_effect},
    {"HostKeyAlias", Use::read},
    {"ConnectTimeout", Use::read},
    {"ServerAliveInterval", Use::read},
    {"ServerAliveCountMax", Use::read},
    {"ForwardAgent", Use::read},
    {"IgnoreUnknown", Use::read},
    // Change how ssh would connect or authenticate; clusterctl does not.
    {"CertificateFile", Use::not_applied, "libssh2 1.10 cannot log in with a certificate"},
    {"Ciphers", Use::read},
    {"MACs", Use::read},
    {"KexAlgorithms", Use::read},
    {"HostKeyAlgorithms", Use::read},
    {"HostbasedAcceptedAlgorithms", Use::no_effect},
    {"HostbasedKeyTypes", Use::no_effect},
    {"PubkeyAcceptedAlgorithms", Use::not_applied, k_algorithms},
    {"PubkeyAcceptedKeyTypes", Use::not_applied, k_algorithms},
    {"CASignatureAlgorithms", Use::not_applied, k_algorithms},
    {"AddressFamily", Use::not_applied, "clusterctl connects to the first address that answers"},
    {"BindAddress", Use::not_applied, "the system picks the source address"},
    {"BindInterface", Use::not_applied, "the system picks the source address"},
    {"CanonicalizeHostname", Use::not_applied,
     "host names are not canonicalised; give HostName instead"},
    {"CanonicalDomains", Use::no_effect},
    {"CanonicalizeFallbackLocal", Use::no_effect},
    {"CanonicalizeMaxDots", Use::no_effect},
    {"CanonicalizePermittedCNAMEs", Use::no_effect},
    {"GlobalKnownHostsFile", Use::not_applied,
     "host keys are checked against UserKnownHostsFile only"},
    {"GlobalKnownHostsFile2", Use::no_effect},
    {"RevokedHostKeys", Use::not_applied, "the revoked keys file is not consulted"},
    {"KnownHostsCommand", Use::not_applied, k_never_run},
    {"LocalCommand", Use::not_applied, k_never_run},
    {"PermitLocalCommand", Use::no_effect},
    {"RemoteCommand", Use::not_applied, "clusterctl runs its own command on each host"},
    {"SetEnv", Use::not_applied, "set the job's environment with env: in the config"},
    {"SendEnv", Use::not_applied, "set the job's environment with env: in the config"},
    {"ConnectionAttempts", Use::not_applied, "clusterctl retries a connection with --retries"},
    {"ControlMaster", Use::not_applied, "clusterctl keeps one session per host itself"},
    {"ControlPath", Use::no_effect},
    {"ControlPersist", Use::no_effect},
    {"ProxyUseFdpass", Use::not_applied, "the ProxyCommand's stdio carries the connection"},
    {"PKCS11Provider", Use::not_applied, "keys come from files and ssh-agent only"},
    {"SmartcardDevice", Use::not_applied, "keys come from files and ssh-agent only"},
    {"SecurityKeyProvider", Use::not_applied, "keys come from files and ssh-agent only"},
    {"PreferredAuthentications", Use::not_applied,
     "clusterctl logs in with public keys (ssh-agent, then the identity files)"},
    {"PubkeyAuthentication", Use::not_applied,
     "clusterctl logs in with public keys (ssh-agent, then the identity files)"},
    // What an interactive ssh does; a launcher does none of it.
    {"AddKeysToAgent", Use::no_effect},
    {"BatchMode", Use::no_effect},
    {"CheckHostIP", Use::no_effect},
    {"ChallengeResponseAuthentication", Use::no_effect},
    {"ClearAllForwardings", Use::no_effect},
    {"Compression", Use::no_effect},
    {"DynamicForward", Use::no_effect},
    {"EnableEscapeCommandline", Use::no_effect},
    {"EnableSSHKeysign", Use::no_effect},
    {"EscapeChar", Use::no_effect},
    {"ExitOnForwardFailure", Use::no_effect},
    {"FingerprintHash", Use::no_effect},
    {"ForkAfterAuthentication", Use::no_effect},
    {"ForwardX11", Use::no_effect},
    {"ForwardX11Timeout", Use::no_effect},
    {"ForwardX11Trusted", Use::no_effect},
    {"GatewayPorts", Use::no_effect},
    {"GSSAPIAuthentication", Use::no_effect},
    {"GSSAPIDelegateCredentials", Use::no_effect},
    {"HashKnownHosts", Use::no_effect},
    {"HostbasedAuthentication", Use::no_effect},
    {"IPQoS", Use::no_effect},
    {"KbdInteractiveAuthentication", Use::no_effect},
    {"KbdInteractiveDevices", Use::no_effect},
    {"KeepAlive", Use::no_effect},
    {"LocalForward", Use::no_effect},
    {"LogLevel", Use::no_effect},
    {"LogVerbose", Use::no_effect},
    {"NoHostAuthenticationForLocalhost", Use::no_effect},
    {"NumberOfPasswordPrompts", Use::no_effect},
    {"PasswordAuthentication", Use::no_effect},
    {"PermitRemoteOpen", Use::no_effect},
    {"RekeyLimit", Use::no_effect},
    {"RemoteForward", Use::no_effect},
    {"RequestTTY", Use::no_effect},
    {"RequiredRSASize", Use::no_effect},
    {"SessionType", Use::no_effect},
    {"SkeyAuthentication", Use::no_effect},
    {"StdinNull", Use::no_effect},
    {"StreamLocalBindMask", Use::no_effect},
    {"StreamLocalBindUnlink", Use::no_effect},
    {"SyslogFacility", Use::no_effect},
    {"TCPKeepAlive", Use::no_effect},
    {"TISAuthentication", Use::no_effect},
    {"Tunnel", Use::no_effect},
    {"TunnelDevice", Use::no_effect},
    {"UpdateHostKeys", Use::no_effect},
    {"VerifyHostKeyDNS", Use::no_effect},
    {"VisualHostKey", Use::no_effect},
    {"XAuthLocation", Use::no_effect},
    {"DSAAuthentication", Use::no_effect},
    // Deprecated or unsupported in OpenSSH itself: it accepts and ignores them.
    {"AFSTokenPassing", Use::no_effect},
    {"Cipher", Use::no_effect},
    {"CompressionLevel", Use::no_effect},
    {"FallBackToRsh", Use::no_effect},
    {"KerberosAuthentication", Use::no_effect},
    {"KerberosTGTPassing", Use::no_effect},
    {"Protocol", Use::no_effect},
    {"RhostsAuthentication", Use::no_effect},
    {"RhostsRSAAuthentication", Use::no_effect},
    {"RSAAuthentication", Use::no_effect},
    {"UsePrivilegedPort", Use::no_effect},
    {"UseRoaming", Use::no_effect},
    {"UseRsh", Use::no_effect},
};

bool same_lower(std::string_view display, std::string_view lower) {
    return display.size() == lower.size() && util::to_lower(display) == lower;
}

} // namespace

const Keyword* find(std::string_view lower_case_name) {
    for (const auto& k : k_keywords)
        if (same_lower(k.name, lower_case_name)) return &k;
    return nullptr;
}

std::string_view suggestion(std::string_view lower_case_name) {
    std::vector<std::string> names;
    for (const auto& k : k_keywords)
        names.push_back(util::to_lower(k.name));
    auto match = util::closest_match(lower_case_name, names);
    return match ? display_name(*match) : std::string_view{};
}

std::string_view display_name(std::string_view lower_case_name) {
    const Keyword* k = find(lower_case_name);
    return k ? k->name : lower_case_name;
}

} // namespace clusterctl::config::ssh_keywords
