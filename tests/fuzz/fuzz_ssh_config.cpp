// ssh_config files: any bytes give a config or a well-placed diagnostic, and looking a host
// up in a config that parsed gives options or a diagnostic, never a crash.
#include "clusterctl/config/ssh_config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    using namespace clusterctl;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // Include reads files: keep the fuzzer to the text it was given.
    if (text.find("nclude") != std::string_view::npos ||
        text.find("NCLUDE") != std::string_view::npos)
        return 0;
    util::Environment env({{"HOME", "/nonexistent"}, {"USER", "u"}});
    auto config = config::SshConfig::parse(text, "ssh_config", env);
    if (!config) {
        fuzz::check_diagnostic(config.error(), text, "ssh_config");
        return 0;
    }
    config::LocalHost local{"u", "/nonexistent", "1000", "fuzz.example"};
    (void)config->lookup("node-001", local, env);
    return 0;
}
