// Hostfiles: any bytes give hosts or a well-placed diagnostic.
#include "clusterctl/config/hostfile.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto hosts = clusterctl::config::parse_hostfile(text, "hostfile");
    if (!hosts) clusterctl::fuzz::check_diagnostic(hosts.error(), text, "hostfile");
    return 0;
}
