// Host list expressions: expand gives names or a diagnostic on the expression's one line;
// the names fold into an expression that expands to the same names again.
#include "clusterctl/config/host_list.hpp"
#include "fuzz_support.hpp"

#include <set>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    using namespace clusterctl;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (text.find('\n') != std::string_view::npos) return 0; // one line, as typed
    auto names = config::expand_host_list(text, {"-w", 1, 1});
    if (!names) {
        fuzz::check_diagnostic(names.error(), text, "-w");
        return 0;
    }
    std::set<std::string> unique(names->begin(), names->end());
    if (unique.size() != names->size()) return 0; // duplicates: the hostfile refuses them
    std::string folded = config::fold_host_list(*names);
    auto again = config::expand_host_list(folded, {"fold", 1, 1});
    if (!again) fuzz::fail(("a fold does not expand: " + folded).c_str(), again.error());
    if (std::set<std::string>(again->begin(), again->end()) != unique) {
        std::fprintf(stderr, "fold %s of %.*s lost or added names\n", folded.c_str(),
                     static_cast<int>(text.size()), text.data());
        std::abort();
    }
    return 0;
}
