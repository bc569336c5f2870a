// clusterctl.yaml with ${VAR}: any bytes give a config or a well-placed diagnostic, never
// an exception from yaml-cpp or a value past the expansion limit.
#include "clusterctl/config/training_config.hpp"
#include "clusterctl/config/variables.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    using namespace clusterctl;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // templates: and secrets' files read the filesystem: keep to the text.
    if (text.find("templates") != std::string_view::npos) return 0;
    util::Environment env({{"HOME", "/nonexistent"}, {"USER", "u"}, {"A", "x"}});
    auto config = config::parse_training_config(text, "clusterctl.yaml", env);
    if (!config) {
        fuzz::check_diagnostic(config.error(), text, "clusterctl.yaml");
        return 0;
    }
    for (const auto& var : config->env)
        if (var.value.size() > config::k_expanded_value_limit) {
            std::fprintf(stderr, "env %s grew to %zu bytes\n", var.name.c_str(), var.value.size());
            std::abort();
        }
    return 0;
}
